import { type ConsumedRecord, deadLetterOf, decodeRecord, type RawMessage } from '@trapline/runtime';
import { PROJECTED_TOPICS, TOPIC_SPECS, type Codec, type DomainRecord, type RecordName } from '@trapline/schemas';
import { type Parsed, readEvent } from './received.ts';

// What a batch of one partition of a projected topic asks of the read models, in log order, before
// anything is written. Pure: the records are decoded and the events parsed here; the apply step
// (steps/apply-batch.ts) only writes.

export type Step =
  /** A run of consecutive events, written with a few multi-row statements. */
  | { kind: 'events'; events: { message: ConsumedRecord; parsed: Parsed }[] }
  /** Any other record, applied on its own. */
  | { kind: 'record'; message: ConsumedRecord; record: DomainRecord }
  /** A null value on the admin topic: the entity its key names is removed. */
  | { kind: 'removal'; key: string }
  /** A record that can never be projected, with its reason in the headers. */
  | { kind: 'dead-letter'; message: RawMessage };

/**
 * The records a projected topic (`<prefix>.<suffix>`) carries, from the one topic declaration. A
 * readable record on another topic is dead-lettered, never applied: a token grant on the events
 * topic or an event on the admin topic is not what the log says happened.
 */
export function carriedOn(topic: string): ReadonlySet<RecordName> {
  const id = PROJECTED_TOPICS.find((candidate) => topic.endsWith(`.${TOPIC_SPECS[candidate].suffix}`));
  return new Set(id === undefined ? [] : TOPIC_SPECS[id].records);
}

/**
 * The steps of a batch of `topic`. A dead letter comes as soon as its record is read, before the
 * run of events it interrupts (a run ends at any other record or removal, not at a dead letter).
 */
export function planBatch(codec: Codec, topic: string, records: ConsumedRecord[]): Step[] {
  return new BatchPlan(codec, topic).add(records).finish();
}

/**
 * A batch's plan made a part at a time (`add`, in log order): the steps are those `planBatch`
 * gives for all the parts at once, so the caller may let other work run between parts.
 */
export class BatchPlan {
  private readonly carried: ReadonlySet<RecordName>;
  private readonly isAdmin: boolean;
  private readonly parsesEvents: boolean;
  private readonly steps: Step[] = [];
  private run: { message: ConsumedRecord; parsed: Parsed }[] = [];

  constructor(
    private readonly codec: Codec,
    private readonly topic: string,
  ) {
    this.carried = carriedOn(topic);
    this.isAdmin = topic.endsWith(`.${TOPIC_SPECS.admin.suffix}`);
    this.parsesEvents = this.carried.has('EventReceived');
  }

  add(records: ConsumedRecord[]): this {
    for (const message of records) {
      if (message.value === null) {
        // On the admin topic a null value removes an entity (a user, member, user token); on the
        // events topic it is an erasure whose purge record already did the work.
        if (this.isAdmin && message.key !== null) {
          this.endRun();
          this.steps.push({ kind: 'removal', key: message.key.toString() });
        }
        continue;
      }
      if (this.parsesEvents && message.schema === 'EventReceived') {
        // Parsed as it is read, not through decodeRecord, which keeps what it decoded on the record:
        // the payload's text is let go once parsed (domain/received.ts).
        const parsed = readEvent(this.codec, message.headers, message.value, Number(message.offset));
        if (parsed.ok) this.run.push({ message, parsed: parsed.parsed });
        else this.steps.push(deadLetter(message, parsed.reason));
        continue;
      }
      const decoded = decodeRecord(this.codec, message);
      if (!decoded.ok || !this.carried.has(decoded.record.name)) {
        this.steps.push(deadLetter(message, decoded.ok ? `unexpected ${decoded.record.name} on ${this.topic}` : decoded.reason));
        continue;
      }
      this.endRun();
      this.steps.push({ kind: 'record', message, record: decoded.record });
    }
    return this;
  }

  finish(): Step[] {
    this.endRun();
    return this.steps;
  }

  private endRun(): void {
    if (this.run.length === 0) return;
    this.steps.push({ kind: 'events', events: this.run });
    this.run = [];
  }
}

const deadLetter = (message: ConsumedRecord, reason: string): Step => ({ kind: 'dead-letter', message: deadLetterOf(message, reason) });

/** Consecutive runs of records whose keys and values add up to at most `limit` bytes (a larger record alone). */
export function bySize<T extends { key: Buffer | string | null; value: Buffer | null }>(records: T[], limit: number): T[][] {
  const parts: T[][] = [];
  let part: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
    if (part.length > 0 && bytes + size > limit) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(record);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}
