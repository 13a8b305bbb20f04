import { ok, reject, type Result } from './rejections.ts';

// Envelope format: a header line (JSON), then items, each an item header line (JSON, with an
// optional `length`) followed by its payload — `length` bytes, or up to the next newline.

export interface EnvelopeItem {
  type: string;
  headers: Record<string, unknown>;
  payload: Buffer;
}

export interface Envelope {
  headers: Record<string, unknown>;
  items: EnvelopeItem[];
}

const NEWLINE = 0x0a;

function readLine(body: Buffer, start: number): { line: Buffer; next: number } {
  const end = body.indexOf(NEWLINE, start);
  return end === -1 ? { line: body.subarray(start), next: body.length } : { line: body.subarray(start, end), next: end + 1 };
}

function parseHeader(line: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(line.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseEnvelope(body: Buffer): Result<Envelope> {
  const first = readLine(body, 0);
  const headers = parseHeader(first.line);
  if (!headers) return reject('invalid_envelope', 'the envelope header is not a JSON object');
  const items: EnvelopeItem[] = [];
  let position = first.next;
  while (position < body.length) {
    const { line, next } = readLine(body, position);
    if (line.length === 0 || (line.length === 1 && line[0] === 0x0d)) {
      position = next; // tolerate blank lines between items and a trailing newline
      continue;
    }
    const itemHeaders = parseHeader(line);
    if (!itemHeaders || typeof itemHeaders.type !== 'string') return reject('invalid_envelope', 'an item header is not a JSON object with a type');
    let payload: Buffer;
    if (itemHeaders.length !== undefined) {
      const length = itemHeaders.length;
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || next + length > body.length) {
        return reject('invalid_envelope', 'an item length does not fit the body');
      }
      payload = body.subarray(next, next + length);
      position = next + length;
      if (body[position] === NEWLINE) position += 1;
    } else {
      const rest = readLine(body, next);
      payload = rest.line;
      position = rest.next;
    }
    items.push({ type: itemHeaders.type, headers: itemHeaders, payload });
  }
  return ok({ headers, items });
}
