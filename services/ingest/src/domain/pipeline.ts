import type { NormalizedEvent } from '@trapline/schemas';
import { authorize, findCredentials, type ProjectKey } from './auth.ts';
import { decodeLegacyStoreBody, decompress, parseJsonObject } from './body.ts';
import { parseEnvelope } from './envelope.ts';
import { normalizeEvent } from './normalize.ts';
import { ok, reject, type Result } from './rejections.ts';

// The ingest pipeline as pure stages: decode → auth → parse → normalize. The HTTP adapter feeds
// it a request and either appends the events it returns or answers the rejection.

export type Endpoint = 'store' | 'envelope';

export interface IngestRequest {
  endpoint: Endpoint;
  projectId: string;
  body: Buffer;
  contentEncoding?: string;
  xSentryAuth?: string;
  authorization?: string;
  query: Record<string, unknown>;
  /** Epoch seconds. */
  received: number;
}

export interface IngestLimits {
  maxEventBytes: number;
  maxRequestBytes: number;
}

export interface Accepted {
  projectKey: ProjectKey;
  /** The id to answer with (an envelope without an event still answers its header's event_id). */
  answerId: string | null;
  events: NormalizedEvent[];
  /** Items accepted but not stored as events, by type: counted as outcomes. */
  otherItems: string[];
}

export type KeyLookup = (publicKey: string) => ProjectKey | undefined;

export function parseProjectId(text: string): Result<number> {
  return /^[1-9]\d{0,15}$/.test(text) ? ok(Number(text)) : reject('invalid_project');
}

export function runIngest(request: IngestRequest, lookupKey: KeyLookup, limits: IngestLimits): Result<Accepted> {
  const projectId = parseProjectId(request.projectId);
  if (!projectId.ok) return projectId;
  const body = decompress(request.body, request.contentEncoding, limits.maxRequestBytes);
  if (!body.ok) return body;
  return request.endpoint === 'store' ? ingestStore(request, body.value, projectId.value, lookupKey, limits) : ingestEnvelope(request, body.value, projectId.value, lookupKey, limits);
}

function ingestStore(request: IngestRequest, raw: Buffer, projectId: number, lookupKey: KeyLookup, limits: IngestLimits): Result<Accepted> {
  const credentials = findCredentials({ xSentryAuth: request.xSentryAuth, authorization: request.authorization, query: request.query });
  if (!credentials.ok) return credentials;
  const key = authorize(credentials.value, lookupKey(credentials.value.publicKey), projectId);
  if (!key.ok) return key;
  const body = decodeLegacyStoreBody(raw, limits.maxEventBytes);
  if (!body.ok) return body;
  if (body.value.length > limits.maxEventBytes) return reject('too_large', `event exceeds ${limits.maxEventBytes} bytes`);
  const json = parseJsonObject(body.value);
  if (!json.ok) return json;
  const event = normalizeEvent({ event: json.value, received: request.received });
  if (!event.ok) return event;
  return ok({ projectKey: key.value, answerId: event.value.event_id, events: [event.value], otherItems: [] });
}

function ingestEnvelope(request: IngestRequest, raw: Buffer, projectId: number, lookupKey: KeyLookup, limits: IngestLimits): Result<Accepted> {
  const envelope = parseEnvelope(raw);
  if (!envelope.ok) return envelope;
  const dsn = typeof envelope.value.headers.dsn === 'string' ? envelope.value.headers.dsn : undefined;
  const credentials = findCredentials({ xSentryAuth: request.xSentryAuth, authorization: request.authorization, query: request.query, envelopeDsn: dsn });
  if (!credentials.ok) return credentials;
  const key = authorize(credentials.value, lookupKey(credentials.value.publicKey), projectId);
  if (!key.ok) return key;
  const events: NormalizedEvent[] = [];
  const otherItems: string[] = [];
  const headerEventId = typeof envelope.value.headers.event_id === 'string' ? envelope.value.headers.event_id : undefined;
  for (const item of envelope.value.items) {
    if (item.type !== 'event') {
      otherItems.push(item.type);
      continue;
    }
    if (item.payload.length > limits.maxEventBytes) return reject('too_large', `event exceeds ${limits.maxEventBytes} bytes`);
    const json = parseJsonObject(item.payload);
    if (!json.ok) return json;
    if (json.value.event_id === undefined && headerEventId !== undefined) json.value.event_id = headerEventId;
    const event = normalizeEvent({ event: json.value, received: request.received });
    if (!event.ok) return event;
    events.push(event.value);
  }
  const answerId = events[0]?.event_id ?? (headerEventId ? headerEventId.replaceAll('-', '').toLowerCase() : null);
  return ok({ projectKey: key.value, answerId, events, otherItems });
}
