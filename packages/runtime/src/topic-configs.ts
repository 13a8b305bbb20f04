import { connect, type Socket } from 'node:net';

// Topic configs over Kafka's own wire protocol: librdkafka has DescribeConfigs and
// IncrementalAlterConfigs, but @confluentinc/kafka-javascript binds neither. Two fixed-format
// requests to one broker (any broker answers for a topic) are smaller than a second client.
// Plaintext only, as every connection Trapline makes to Kafka.

const DESCRIBE_CONFIGS = { key: 32, version: 1 }; // v0 was removed in Kafka 4 (KIP-896); v1 is in 2.0–4.x
const INCREMENTAL_ALTER_CONFIGS = { key: 44, version: 0 }; // Kafka 2.3–4.x
const TOPIC_RESOURCE = 2;
const SET = 0;

/** A request body in Kafka's non-flexible encoding: big-endian integers, int16-length strings, int32-length arrays. */
class RequestWriter {
  private readonly parts: Buffer[] = [];

  int8(value: number): this {
    this.parts.push(Buffer.from([value & 0xff]));
    return this;
  }

  int16(value: number): this {
    const buffer = Buffer.alloc(2);
    buffer.writeInt16BE(value);
    this.parts.push(buffer);
    return this;
  }

  int32(value: number): this {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32BE(value);
    this.parts.push(buffer);
    return this;
  }

  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = Buffer.from(value, 'utf8');
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  array<T>(items: readonly T[] | null, write: (item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) write(item);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class ResponseReader {
  private at = 0;

  constructor(private readonly buffer: Buffer) {}

  int8(): number {
    return this.buffer.readInt8(this.at++);
  }

  int16(): number {
    const value = this.buffer.readInt16BE(this.at);
    this.at += 2;
    return value;
  }

  int32(): number {
    const value = this.buffer.readInt32BE(this.at);
    this.at += 4;
    return value;
  }

  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const value = this.buffer.toString('utf8', this.at, this.at + length);
    this.at += length;
    return value;
  }

  array<T>(read: () => T): T[] {
    const length = this.int32();
    return Array.from({ length: Math.max(length, 0) }, read);
  }
}

export interface WireSettings {
  brokers: string[];
  clientId: string;
  timeoutMs: number;
}

/** One request and its response on a fresh connection (request header v1, response header v0). */
function exchange(broker: string, settings: WireSettings, api: { key: number; version: number }, body: Buffer): Promise<ResponseReader> {
  const separator = broker.lastIndexOf(':');
  const header = new RequestWriter().int16(api.key).int16(api.version).int32(1).string(settings.clientId).bytes();
  const frame = Buffer.alloc(4);
  frame.writeInt32BE(header.length + body.length);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: broker.slice(0, separator), port: Number(broker.slice(separator + 1)) });
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(settings.timeoutMs, () => fail(new Error(`${broker} did not answer within ${settings.timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(Buffer.concat([frame, header, body])));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      const whole = Buffer.concat(chunks);
      const size = whole.readInt32BE(0);
      if (whole.length < 4 + size) return;
      socket.end();
      const reader = new ResponseReader(whole.subarray(4, 4 + size));
      reader.int32(); // correlation id: one request per connection
      resolve(reader);
    });
    socket.once('close', () => reject(new Error(`${broker} closed the connection before answering`)));
  });
}

/** The first broker that answers; the next ones only when a broker cannot be reached. */
async function request(settings: WireSettings, api: { key: number; version: number }, body: Buffer): Promise<ResponseReader> {
  let lastError: unknown;
  for (const broker of settings.brokers) {
    try {
      return await exchange(broker, settings, api, body);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** A resource the broker refused, with Kafka's error code (e.g. 3: unknown topic). */
export class TopicConfigError extends Error {
  constructor(readonly topic: string, readonly code: number, message: string | null) {
    super(`${topic}: ${message || (code === 3 ? 'no such topic' : `Kafka error ${code}`)}`);
  }
}

/** Each topic's configs as the broker has them (set or default), only `names` when given. */
export async function describeTopicConfigs(settings: WireSettings, topics: string[], names?: string[]): Promise<Map<string, Record<string, string>>> {
  const writer = new RequestWriter();
  writer.array(topics, (topic) => {
    writer.int8(TOPIC_RESOURCE).string(topic).array(names ?? null, (name) => writer.string(name));
  });
  writer.int8(0); // include_synonyms: false
  const reader = await request(settings, DESCRIBE_CONFIGS, writer.bytes());
  reader.int32(); // throttle time
  const described = new Map<string, Record<string, string>>();
  reader.array(() => {
    const code = reader.int16();
    const message = reader.string();
    reader.int8();
    const topic = reader.string() ?? '';
    const configs: Record<string, string> = {};
    reader.array(() => {
      const name = reader.string() ?? '';
      const value = reader.string();
      reader.int8(); // read only
      reader.int8(); // source
      reader.int8(); // sensitive
      reader.array(() => [reader.string(), reader.string(), reader.int8()]); // synonyms (none asked for)
      if (value !== null) configs[name] = value;
    });
    if (code !== 0) throw new TopicConfigError(topic, code, message);
    described.set(topic, configs);
  });
  return described;
}

/** Sets `configs` on `topic`, leaving its other configs as they are. */
export async function setTopicConfigs(settings: WireSettings, topic: string, configs: Record<string, string>): Promise<void> {
  const writer = new RequestWriter();
  writer.array([topic], () => {
    writer.int8(TOPIC_RESOURCE).string(topic).array(Object.entries(configs), ([name, value]) => writer.string(name).int8(SET).string(value));
  });
  writer.int8(0); // validate_only: false
  const reader = await request(settings, INCREMENTAL_ALTER_CONFIGS, writer.bytes());
  reader.int32();
  reader.array(() => {
    const code = reader.int16();
    const message = reader.string();
    reader.int8();
    const name = reader.string() ?? topic;
    if (code !== 0) throw new TopicConfigError(name, code, message);
  });
}
