import type { OutgoingRecord } from '@trapline/runtime';
import type { AlertDelivery } from '@trapline/schemas';

/**
 * A delivery on the run, retry or dead-letter topic, keyed by its project like every record (the
 * partitioner takes what comes before the slash): a project's deliveries of one fetch are one
 * batch of one partition, sent together and committed in one transaction, not one each.
 */
export function deliveryRecord(delivery: AlertDelivery): OutgoingRecord<'AlertDelivery'> {
  return { key: `${delivery.projectId}/${delivery.deliveryId}`, name: 'AlertDelivery', value: delivery };
}
