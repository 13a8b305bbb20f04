import { createRequire } from 'node:module';
import type { Consumer, ConsumerConfig, Kafka as KafkaJs, logLevel as LogLevels } from 'kafkajs';
import type { KafkaClientSettings } from './kafka.ts';

// The one kafkajs use left: the CLI log reader's reads that commit through a consumer group
// (packages/cli/src/log-reader.ts, moving to librdkafka with the rebuild work). kafkajs is loaded
// only when such a consumer is made, so nothing else pays for it or hears from it.

const clients = new WeakMap<KafkaClientSettings, KafkaJs>();

function kafkajsOf(settings: KafkaClientSettings): KafkaJs {
  let client = clients.get(settings);
  if (client) return client;
  const { Kafka, logLevel } = createRequire(import.meta.url)('kafkajs') as { Kafka: typeof KafkaJs; logLevel: typeof LogLevels };
  silenceNegativeTimeouts();
  const names: Record<number, 'error' | 'warn' | 'info' | 'debug'> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };
  const logger = settings.logger.child({ component: 'kafkajs' });
  client = new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: settings.silent ? logLevel.NOTHING : logLevel.WARN,
    retry: { initialRetryTime: 200, retries: settings.retries ?? 8 },
    ...(settings.requestTimeoutMs === undefined ? {} : { connectionTimeout: settings.requestTimeoutMs }),
    logCreator: () => ({ level, log }) => {
      const { message, ...extra } = log;
      logger[names[level] ?? 'info'](extra, message);
    },
  });
  clients.set(settings, client);
  return client;
}

let silenced = false;

// kafkajs 2.2.4 schedules a request-queue check with a negative delay, which Node 24 reports as a
// TimeoutNegativeWarning on stderr (a delay below 1 ms was always taken as 1 ms): that one warning
// is silenced once kafkajs is loaded, so the CLI's stderr stays for real messages.
function silenceNegativeTimeouts(): void {
  if (silenced) return;
  silenced = true;
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning') return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

export function kafkajsConsumer(settings: KafkaClientSettings, config: ConsumerConfig): Consumer {
  return kafkajsOf(settings).consumer(config);
}
