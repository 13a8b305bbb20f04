import { createKafka, createLogger, createMetrics, createPool, deadLetterCounter, postgresCheck, readConfig, runService, startHealthServer, TransactionalAppender } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { Counter, Histogram } from 'prom-client';
import { AlertingCache } from './adapters/alerting-cache.ts';
import { startNotifier } from './adapters/pipeline.ts';
import { Senders } from './adapters/senders.ts';
import { NotifierState } from './adapters/state-store.ts';

const config = readConfig();
const logger = createLogger('notifier', config.LOG_LEVEL);

await runService(logger, async () => {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const metrics = createMetrics('notifier');
  const deliveries = new Counter({ name: 'trapline_notifier_deliveries_total', help: 'Alert deliveries by outcome (decided, sent, not_sent, retry, dead, dead_letter)', labelNames: ['outcome'], registers: [metrics] });
  const transactions = new Histogram({ name: 'trapline_notifier_transaction_seconds', help: 'Kafka transactions of the notifier by the inputs whose offsets they commit (events, run, retry; events+run for a cycle of both), from begin to commit', labelNames: ['input'], buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2], registers: [metrics] });
  const deadLetters = deadLetterCounter(metrics);
  const pool = createPool(config.DATABASE_URL, 4);
  const kafka = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-notifier`, logger);
  const codec = new Codec();
  const appender = await TransactionalAppender.connect(kafka, codec, `${config.notifierGroup}.${config.notifierInstance}`);
  if (!config.SMTP_URL) logger.warn('no SMTP_URL: e-mail alerts are recorded as not sent');
  const senders = new Senders(pool, { timeoutMs: config.ALERT_DELIVERY_TIMEOUT_MS, smtpUrl: config.SMTP_URL, emailFrom: config.EMAIL_FROM });
  const notifier = await startNotifier({
    kafka, codec, appender, topics, logger, metrics,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    maxPollIntervalMs: config.KAFKA_MAX_POLL_INTERVAL_MS,
    groupId: config.notifierGroup,
    publicUrl: config.PUBLIC_URL,
    alerting: new AlertingCache(pool, config.ALERT_RULES_REFRESH_MS),
    state: new NotifierState({ kafka, topic: topics.notifierState, groupPrefix: config.notifierGroup, codec }),
    send: (deliveries) => senders.sendAll(deliveries),
    retry: { maxAttempts: config.ALERT_MAX_ATTEMPTS, backoffMs: config.ALERT_RETRY_BACKOFF_MS, maxBackoffMs: config.ALERT_RETRY_MAX_BACKOFF_MS },
    now: Date.now,
    onTransaction: (input, seconds) => transactions.observe({ input }, seconds),
    onOutcome: (outcome, count) => {
      deliveries.inc({ outcome }, count);
      if (outcome === 'dead' || outcome === 'dead_letter') deadLetters.inc({ topic: topics.alertsDlq }, count);
    },
  });
  const health = await startHealthServer(config.HOST, config.NOTIFIER_PORT, metrics, { consumer: () => notifier.check(), postgres: postgresCheck(pool) });
  return {
    stop: async () => {
      await notifier.stop();
      await appender.close();
      senders.close();
      await health.close();
      await pool.end();
    },
  };
});
