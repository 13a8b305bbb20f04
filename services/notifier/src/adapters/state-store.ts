import { type Kafka, type OutgoingRecord, readTopicToEnd } from '@trapline/runtime';
import type { Codec, NotifierIssueState } from '@trapline/schemas';
import { stateKey } from '../domain/issue-state.ts';
import { notifierStateKeys } from '@trapline/schemas';

// The notifier's state, kept in its compacted changelog topic (`trapline.notifier.state`) and in
// memory: per grouping hash what it knows of the issue, and per partition of its inputs (events,
// run, retry) the next offset it has not handled. Both are written in the Kafka transaction that commits the consumed offset,
// so the state always matches the offsets: a redelivered batch, a restart, or a reset of the
// group to the earliest offset decides and sends nothing twice (records before the position are skipped).

/** The changelog record of where the notifier stands in one partition of an input. */
export function positionRecord(topic: string, partition: number, nextOffset: string): OutgoingRecord<'NotifierPosition'> {
  return { key: notifierStateKeys.position(topic, partition), name: 'NotifierPosition', value: { topic, partition, nextOffset } };
}

/** The changes of one batch, applied to the store only once its transaction has committed. */
export class StateChanges {
  readonly issues = new Map<string, NotifierIssueState>();

  constructor(private readonly store: NotifierState) {}

  get(projectId: number, hash: string): NotifierIssueState | undefined {
    return this.issues.get(stateKey(projectId, hash)) ?? this.store.issue(projectId, hash);
  }

  issueOfGroup(groupId: number): NotifierIssueState | undefined {
    for (const state of this.issues.values()) if (state.groupId === groupId) return state;
    return this.store.issueOfGroup(groupId);
  }

  set(state: NotifierIssueState): void {
    this.issues.set(stateKey(state.projectId, state.hash), state);
  }

  records(topic: string, partition: number, nextOffset: string): OutgoingRecord[] {
    return [...[...this.issues.entries()].map(([key, value]) => ({ key, name: 'NotifierIssueState' as const, value })), positionRecord(topic, partition, nextOffset)];
  }
}

export class NotifierState {
  private readonly issues = new Map<string, NotifierIssueState>();
  private readonly groups = new Map<number, string>();
  /** By `<topic>/<partition>`. */
  private readonly positions = new Map<string, bigint>();

  /** `kafka` reads the changelog with a consumer of its own (not one the health check watches). */
  constructor(private readonly changelog: { kafka: Kafka; topic: string; groupPrefix: string; codec: Codec }) {}

  issue(projectId: number, hash: string): NotifierIssueState | undefined {
    return this.issues.get(stateKey(projectId, hash));
  }

  issueOfGroup(groupId: number): NotifierIssueState | undefined {
    const key = this.groups.get(groupId);
    return key === undefined ? undefined : this.issues.get(key);
  }

  /** The first offset of the partition not handled yet (0 when none was). */
  position(topic: string, partition: number): bigint {
    return this.positions.get(`${topic}/${partition}`) ?? 0n;
  }

  /** After the batch's transaction committed. */
  commit(changes: StateChanges | undefined, topic: string, partition: number, nextOffset: string): void {
    for (const state of changes?.issues.values() ?? []) this.put(state);
    this.setPosition(topic, partition, BigInt(nextOffset));
  }

  private put(state: NotifierIssueState): void {
    const key = stateKey(state.projectId, state.hash);
    const previous = this.issues.get(key);
    if (previous?.groupId != null && previous.groupId !== state.groupId) this.groups.delete(previous.groupId);
    this.issues.set(key, state);
    if (state.groupId !== null) this.groups.set(state.groupId, key);
  }

  private setPosition(topic: string, partition: number, next: bigint): void {
    if (next > this.position(topic, partition)) this.positions.set(`${topic}/${partition}`, next);
  }

  /** Everything the changelog holds, replacing what was in memory (after a start or a rebalance). */
  async restore(): Promise<number> {
    const { kafka, topic, groupPrefix, codec } = this.changelog;
    this.issues.clear();
    this.groups.clear();
    this.positions.clear();
    return readTopicToEnd(kafka, topic, groupPrefix, (message) => {
      const decoded = codec.decode(message.headers, message.value);
      if (!decoded.ok) return;
      if (decoded.record.name === 'NotifierIssueState') this.put(decoded.record.value);
      if (decoded.record.name === 'NotifierPosition') this.setPosition(decoded.record.value.topic, decoded.record.value.partition, BigInt(decoded.record.value.nextOffset));
    });
  }
}
