import { type Kafka, type Logger, redriveChain, type RedriveResult } from '@trapline/runtime';
import type { TopicNames } from '@trapline/schemas';
import { redrive } from '../domain/deletion.ts';

// `trapline deletions redrive` (and `trapline dlq redrive`): every dead letter on the deletions DLQ
// goes back to the run topic with a fresh set of attempts (the runtime's redrive of a retry chain).

export type { RedriveResult };

export interface RedriveOptions {
  kafka: Kafka;
  topics: TopicNames;
  groupId: string;
  transactionalId: string;
  logger: Logger;
  now?: () => number;
  idleMs?: number;
}

export function redriveDeadLetters({ topics, ...options }: RedriveOptions): Promise<RedriveResult> {
  return redriveChain({
    ...options,
    dlqTopic: topics.deletionsDlq,
    runTopic: topics.deletionsRun,
    retry: (record, now) => (record.name === 'DeletionStep' ? { id: record.value.transactionId, record: { key: record.value.transactionId, name: 'DeletionStep', value: redrive(record.value, now) } } : undefined),
  });
}
