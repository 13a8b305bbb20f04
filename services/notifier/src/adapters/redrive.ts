import { type Kafka, type Logger, redriveChain, type RedriveResult } from '@trapline/runtime';
import type { TopicNames } from '@trapline/schemas';
import { deliveryRecord } from './delivery-record.ts';

// `trapline dlq redrive`: every alert delivery on trapline.alerts.dlq goes back to trapline.alerts.run
// with a fresh set of attempts, sent once more (the runtime's redrive of a retry chain).

export function redriveAlertDeliveries(options: { kafka: Kafka; topics: TopicNames; groupId: string; transactionalId: string; logger: Logger; now?: () => number }): Promise<RedriveResult> {
  const { topics, ...rest } = options;
  return redriveChain({
    ...rest,
    dlqTopic: topics.alertsDlq,
    runTopic: topics.alertsRun,
    retry: (record, now) =>
      record.name === 'AlertDelivery'
        ? { id: record.value.deliveryId, record: deliveryRecord({ ...record.value, attempt: 0, lastError: null, dueAt: now }) }
        : undefined,
  });
}
