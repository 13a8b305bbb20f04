import { Reader, Writer } from './wire.ts';
import { brokerAddress, BrokerConnection } from './wire-reader.ts';

// Topic configs over Kafka's own wire protocol: librdkafka has DescribeConfigs and
// IncrementalAlterConfigs, but @confluentinc/kafka-javascript binds neither. Two fixed-format
// requests to one broker (any broker answers for a topic) are smaller than a second client; they
// are written and read by the runtime's one piece of Kafka's wire protocol (wire.ts, wire-reader.ts).
// Plaintext only, as every connection Trapline makes to Kafka.

const DESCRIBE_CONFIGS = { key: 32, version: 1 }; // v0 was removed in Kafka 4 (KIP-896); v1 is in 2.0–4.x
const INCREMENTAL_ALTER_CONFIGS = { key: 44, version: 0 }; // Kafka 2.3–4.x
const TOPIC_RESOURCE = 2;
const SET = 0;

export interface WireSettings {
  brokers: string[];
  clientId: string;
  timeoutMs: number;
}

/**
 * One request and its answer on a fresh connection, from the first broker that answers; the next
 * ones only when a broker cannot be reached. `body` writes the request after its header.
 */
async function request(settings: WireSettings, api: { key: number; version: number }, body: (writer: Writer) => void): Promise<Reader> {
  let lastError: unknown;
  for (const broker of settings.brokers) {
    const { host, port } = brokerAddress(broker);
    let connection: BrokerConnection | undefined;
    try {
      connection = await BrokerConnection.open(host, port, settings.timeoutMs);
      const answer = await connection.request((correlationId) => {
        const writer = Writer.request(api, correlationId, settings.clientId);
        body(writer);
        return writer.framed();
      });
      return new Reader(answer);
    } catch (error) {
      lastError = error;
    } finally {
      connection?.close();
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
  const reader = await request(settings, DESCRIBE_CONFIGS, (writer) => {
    writer.array(topics, (topic) => {
      writer.int8(TOPIC_RESOURCE).string(topic).array(names ?? null, (name) => writer.string(name));
    });
    writer.int8(0); // include_synonyms: false
  });
  reader.int32(); // throttle time
  const described = new Map<string, Record<string, string>>();
  reader.array(() => {
    const code = reader.int16();
    const message = reader.nullableString();
    reader.int8();
    const topic = reader.nullableString() ?? '';
    const configs: Record<string, string> = {};
    reader.array(() => {
      const name = reader.nullableString() ?? '';
      const value = reader.nullableString();
      reader.int8(); // read only
      reader.int8(); // source
      reader.int8(); // sensitive
      reader.array(() => [reader.nullableString(), reader.nullableString(), reader.int8()]); // synonyms (none asked for)
      if (value !== null) configs[name] = value;
    });
    if (code !== 0) throw new TopicConfigError(topic, code, message);
    described.set(topic, configs);
  });
  return described;
}

/** Sets `configs` on `topic`, leaving its other configs as they are. */
export async function setTopicConfigs(settings: WireSettings, topic: string, configs: Record<string, string>): Promise<void> {
  const reader = await request(settings, INCREMENTAL_ALTER_CONFIGS, (writer) => {
    writer.array([topic], () => {
      writer.int8(TOPIC_RESOURCE).string(topic).array(Object.entries(configs), ([name, value]) => writer.string(name).int8(SET).string(value));
    });
    writer.int8(0); // validate_only: false
  });
  reader.int32();
  reader.array(() => {
    const code = reader.int16();
    const message = reader.nullableString();
    reader.int8();
    const name = reader.nullableString() ?? topic;
    if (code !== 0) throw new TopicConfigError(name, code, message);
  });
}
