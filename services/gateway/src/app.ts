import Fastify, { type FastifyInstance } from 'fastify';
import proxy from '@fastify/http-proxy';

// One origin, like Sentry: SDK ingest paths go to ingest, everything else to the API. In
// docker-compose nginx does the same (deploy/nginx.conf).

export const INGEST_PATH = /^\/api\/\d+\/(store|envelope)\/?(\?|$)/;

export function upstreamFor(url: string, ingestUrl: string, apiUrl: string): string {
  return INGEST_PATH.test(url) ? ingestUrl : apiUrl;
}

export function buildGateway(ingestUrl: string, apiUrl: string): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  app.get('/gateway-health', async () => ({ status: 'ok' }));
  void app.register(proxy, {
    // No fixed upstream: reply-from would bind its connection pool to it and ignore getUpstream.
    upstream: '',
    prefix: '/',
    http2: false,
    replyOptions: {
      getUpstream: (request) => upstreamFor(request.url, ingestUrl, apiUrl),
      // The API throttles failed sign-ins per client address: it must see the client's, not ours.
      rewriteRequestHeaders: (request, headers) => ({ ...headers, 'x-forwarded-for': [headers['x-forwarded-for'], request.ip].filter(Boolean).join(', ') }),
    },
  });
  return app;
}
