import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionFor, type OutgoingRecord } from '@trapline/runtime';
import { SCHEMA_HEADER, TOPIC_SPECS, VERSION_HEADER, type DeletionStep, type NormalizedEvent } from '@trapline/schemas';
import { eventually, runCli, startTrapline, type RunningTrapline } from './harness.ts';
import { groupLag } from './log.ts';

// Invariant 6 on the log: a record no consumer can read, placed straight on each topic a service
// consumes, goes to its dead-letter topic with the reason, and the good record behind it on the same
// partition is processed — the partition moves on. The projector reads events, admin and audit
// (dead letters on `<prefix>.events.dlq`); the deleter reads events, deletions.delay, .run and .retry
// (dead letters on `<prefix>.deletions.dlq`).

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline({ DELETION_DELAY_SECONDS: '1', DELETION_MAX_ATTEMPTS: '2', DELETION_RETRY_BACKOFF_MS: '300', DELETION_RETRY_MAX_BACKOFF_MS: '600' });
});

afterAll(async () => {
  await trapline?.dispose();
});

const unique = () => randomBytes(16).toString('hex');
const query = async <T>(sql: string, params: unknown[] = []) => (await trapline.pool.query(sql, params)).rows as T[];
const api = (method: string, path: string) => fetch(`${trapline.publicUrl}/api/0${path}`, { method, headers: { authorization: `Bearer ${trapline.defaults.token}` } });

interface Poison {
  what: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  reason: RegExp;
}

/** Every way a record can be unreadable on a topic: bad Avro under a known schema, a schema or version nobody knows, no schema headers. */
function unreadable(key: string, belongs: OutgoingRecord): Poison[] {
  const good = trapline.codec.encode(belongs.name, belongs.value);
  return [
    { what: 'bad Avro', key, value: good.value.subarray(0, good.value.length - 3), headers: good.headers, reason: new RegExp(`^corrupt ${belongs.name} v1`) },
    { what: 'an unknown schema', key, value: good.value, headers: { [SCHEMA_HEADER]: 'NoSuchRecord', [VERSION_HEADER]: '1' }, reason: /^unknown schema NoSuchRecord$/ },
    { what: 'an unknown version', key, value: good.value, headers: { ...good.headers, [VERSION_HEADER]: '99' }, reason: new RegExp(`^unknown version 99 of ${belongs.name}$`) },
    { what: 'no schema headers', key, value: good.value, headers: {}, reason: /^missing schema headers$/ },
  ];
}

/** A readable record that belongs on another topic. */
function misplaced(topic: string, key: string, elsewhere: OutgoingRecord): Poison {
  const { value, headers } = trapline.codec.encode(elsewhere.name, elsewhere.value);
  return { what: `a ${elsewhere.name} on ${topic}`, key, value, headers, reason: new RegExp(`^unexpected ${elsewhere.name} on ${topic.replaceAll('.', '\\.')}$`) };
}

interface DeadLetter {
  key: string | null;
  reason: string;
  originalTopic: string | null;
}

/** What `trapline dlq list --json` shows an operator, per dead-letter topic. */
function deadLetters(dlqTopic: string): DeadLetter[] {
  const result = runCli(trapline.env, ['dlq', 'list', '--json'], 60000);
  expect(result.status, result.stderr).toBe(0);
  const topics = JSON.parse(result.stdout) as { topic: string; records: DeadLetter[] }[];
  return topics.find((entry) => entry.topic === dlqTopic)?.records ?? [];
}

/** Waits until each poison is on `dlqTopic`, from `topic`, with its reason. */
async function expectDeadLettered(dlqTopic: string, topic: string, poisons: Poison[]): Promise<void> {
  const keys = new Set(poisons.map((poison) => poison.key));
  const found = await eventually(async () => {
    const letters = deadLetters(dlqTopic).filter((letter) => letter.originalTopic === topic && keys.has(letter.key ?? ''));
    return letters.length >= poisons.length ? letters : undefined;
  }, `${poisons.length} dead letters from ${topic} on ${dlqTopic}`, 60000);
  expect(found).toHaveLength(poisons.length);
  for (const poison of poisons) {
    expect(found.some((letter) => letter.key === poison.key && poison.reason.test(letter.reason)), `${poison.what}: ${JSON.stringify(found.map((letter) => letter.reason))}`).toBe(true);
  }
}

const appendPoisons = (topic: string, poisons: Poison[]) => trapline.appender.appendRaw(topic, poisons.map(({ key, value, headers }) => ({ key, value, headers })));

// ---- records that belong, for the projector's topics ----

const now = () => Date.now();

function eventReceived(eventId: string, message: string): OutgoingRecord<'EventReceived'> {
  const payload: NormalizedEvent = { event_id: eventId, timestamp: now() / 1000, received: now() / 1000, level: 'error', platform: 'node', tags: [], message };
  const projectId = trapline.defaults.projectId;
  return { key: `${projectId}/${eventId}`, name: 'EventReceived', value: { projectId, eventId, receivedAt: now(), keyId: 'poison-test', payload: JSON.stringify(payload) } };
}

const organization = (slug: string): OutgoingRecord<'OrganizationUpserted'> => ({ key: `organization/${slug}`, name: 'OrganizationUpserted', value: { slug, name: slug, createdAt: now() } });

function auditEntry(id: string): OutgoingRecord<'AuditEntry'> {
  return { key: id, name: 'AuditEntry', value: { id, organizationSlug: trapline.defaults.organizationSlug, projectId: trapline.defaults.projectId, event: 'event.delete', actor: 'system:poison-test', transactionId: id, targetObject: '0'.repeat(32), data: '{}', createdAt: now() } };
}

function apiToken(organizationSlug: string): OutgoingRecord<'ApiTokenUpserted'> {
  const tokenHash = unique() + unique();
  return { key: `token/${tokenHash}`, name: 'ApiTokenUpserted', value: { tokenHash, organizationSlug, scopes: ['org:admin'], label: 'smuggled', active: true, createdAt: now() } };
}

/** Each topic the projector reads: a record that belongs there, how to see it applied, and one that belongs elsewhere. */
const PROJECTED = [
  {
    topic: 'events' as const,
    // The key puts the poison on the default project's partition, in front of its next event.
    poisonKey: () => `${trapline.defaults.projectId}/poison-${unique()}`,
    good: () => eventReceived(unique(), 'after the poison'),
    applied: async (record: OutgoingRecord) => (await query('SELECT 1 FROM events WHERE event_id = $1', [(record as OutgoingRecord<'EventReceived'>).value.eventId])).length === 1,
    elsewhere: () => apiToken(trapline.defaults.organizationSlug),
  },
  {
    topic: 'admin' as const,
    poisonKey: () => `organization/poison-${unique()}`,
    good: () => organization(`after-poison-${unique().slice(0, 8)}`),
    applied: async (record: OutgoingRecord) => (await query('SELECT 1 FROM organizations WHERE slug = $1', [(record as OutgoingRecord<'OrganizationUpserted'>).value.slug])).length === 1,
    elsewhere: () => eventReceived(unique(), 'an event on the admin topic'),
  },
  {
    topic: 'audit' as const,
    poisonKey: () => `poison-${unique()}`,
    good: () => auditEntry(`${unique()}:requested`),
    applied: async (record: OutgoingRecord) => (await query('SELECT 1 FROM audit_log WHERE id = $1', [(record as OutgoingRecord<'AuditEntry'>).value.id])).length === 1,
    elsewhere: () => apiToken(trapline.defaults.organizationSlug),
  },
];

describe('the projector', () => {
  /** Poisons, then a good record on the same partition; resolves once the good record is applied. */
  const behindPoisons = async (entry: (typeof PROJECTED)[number], poisons: Poison[]) => {
    const topic = trapline.topics[entry.topic];
    const good = entry.good();
    await appendPoisons(topic, poisons);
    await trapline.appender.append(topic, [good]);
    await eventually(async () => ((await entry.applied(good)) ? true : undefined), `the ${good.name} behind the poison on ${topic}`);
  };

  it.each(PROJECTED)('dead-letters every unreadable record on $topic with its reason and applies the record behind it', async (entry) => {
    const topic = trapline.topics[entry.topic];
    const poisons = unreadable(entry.poisonKey(), entry.good());
    await behindPoisons(entry, poisons);
    await expectDeadLettered(trapline.topics.eventsDlq, topic, poisons);
    await eventually(async () => ((await groupLag(trapline.config, trapline.config.projectorGroup, [topic])) === 0 ? true : undefined), `no projector lag on ${topic}`);
  });

  // Before this was checked, an ApiTokenUpserted on the events or audit topic granted a token and an
  // EventReceived on the admin topic became an event.
  it.each(PROJECTED)('dead-letters a record that belongs on another topic instead of applying it, on $topic', async (entry) => {
    const topic = trapline.topics[entry.topic];
    const elsewhere = entry.elsewhere();
    const poison = misplaced(topic, entry.poisonKey(), elsewhere);
    await behindPoisons(entry, [poison]);
    const wronglyApplied = elsewhere.name === 'ApiTokenUpserted' ? await query('SELECT 1 FROM api_tokens WHERE token_hash = $1', [(elsewhere as OutgoingRecord<'ApiTokenUpserted'>).value.tokenHash]) : await query('SELECT 1 FROM events WHERE event_id = $1', [(elsewhere as OutgoingRecord<'EventReceived'>).value.eventId]);
    expect(wronglyApplied).toEqual([]);
    await expectDeadLettered(trapline.topics.eventsDlq, topic, [poison]);
  });
});

describe('the deleter', () => {
  const store = async (message: string) => {
    const key = new URL(trapline.defaults.dsn).username;
    const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message }) });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    await eventually(async () => ((await query('SELECT 1 FROM events WHERE event_id = $1', [id])).length === 1 ? true : undefined), `event ${id} projected`);
    return id;
  };

  /** Deletes one event through the API; resolves with its transaction id once the deletion is done. */
  const deleteEvent = async (eventId: string, timeoutMs = 60000) => {
    const response = await api('DELETE', `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/events/${eventId}/`);
    expect(response.status).toBe(202);
    const { transactionId } = (await response.json()) as { transactionId: string };
    await eventually(async () => ((await query<{ state: string }>('SELECT state FROM deletions WHERE transaction_id = $1', [transactionId]))[0]?.state === 'done' ? true : undefined), `deletion ${transactionId} done`, timeoutMs);
    return transactionId;
  };

  /** A key that lands on `partition` of a topic with `partitions` partitions. */
  const keyOnPartition = (partition: number, partitions: number) => {
    for (;;) {
      const key = `poison-${unique()}`;
      if (partitionFor(key, partitions) === partition) return key;
    }
  };

  /** The step the deleter held on the delay topic for a deletion, as `trapline decode` shows it. */
  const heldStep = (transactionId: string): DeletionStep => {
    const result = runCli(trapline.env, ['decode', 'deletions.delay', '--key', transactionId], 60000);
    expect(result.status, result.stderr).toBe(0);
    return (JSON.parse(result.stdout.trim().split('\n')[0]!) as { value: DeletionStep }).value;
  };

  const completedAudit = (transactionId: string) =>
    eventually(async () => ((await query('SELECT 1 FROM audit_log WHERE id = $1', [`${transactionId}:completed`])).length === 1 ? true : undefined), `deletion ${transactionId} completed`, 60000);

  it('dead-letters every unreadable record on deletions.delay, .run and .retry with its reason, and deletions behind them complete', async () => {
    const placed = new Map<string, Poison[]>();
    for (const id of ['deletionsDelay', 'deletionsRun', 'deletionsRetry'] as const) {
      const topic = trapline.topics[id];
      // One set on every partition, so whatever partition a deletion's step takes, a poison is ahead of it.
      const poisons = Array.from({ length: TOPIC_SPECS[id].partitions }, (_, partition) => {
        const key = keyOnPartition(partition, TOPIC_SPECS[id].partitions);
        // Any record but a DeletionStep is unreadable here: an OrganizationUpserted stands in for both the broken and the misplaced one.
        return [...unreadable(key, organization('broken')), misplaced(topic, key, organization('misplaced'))];
      }).flat();
      await appendPoisons(topic, poisons);
      placed.set(topic, poisons);
    }

    // delay and run: a deletion through the API passes the poisons on both.
    const transactionId = await deleteEvent(await store('deleted past the poison'));
    // retry: the same step again as a retry under a new transaction id, behind the poisons there.
    const retried = { ...heldStep(transactionId), transactionId: unique(), attempt: 1, dueAt: now() };
    await trapline.appender.append(trapline.topics.deletionsRetry, [{ key: retried.transactionId, name: 'DeletionStep', value: retried }]);
    await completedAudit(retried.transactionId);

    for (const [topic, poisons] of placed) await expectDeadLettered(trapline.topics.deletionsDlq, topic, poisons);
  });

  it('sends a step that can never run to deletions.dlq as a DeletionStep with its last error after its attempts, and the partition moves on', async () => {
    const template = heldStep(await deleteEvent(await store('a template step')));
    // A project the read models never heard of: the step fails every attempt.
    const doomed: DeletionStep = { ...template, transactionId: unique(), projectId: 987654, dueAt: now() };
    let followerId = unique();
    while (partitionFor(followerId, TOPIC_SPECS.deletionsRun.partitions) !== partitionFor(doomed.transactionId, TOPIC_SPECS.deletionsRun.partitions)) followerId = unique();
    const follower: DeletionStep = { ...template, transactionId: followerId, dueAt: now() };
    await trapline.appender.append(trapline.topics.deletionsRun, [
      { key: doomed.transactionId, name: 'DeletionStep', value: doomed },
      { key: follower.transactionId, name: 'DeletionStep', value: follower },
    ]);

    await completedAudit(follower.transactionId);
    const dead = await eventually(async () => deadLetters(trapline.topics.deletionsDlq).find((letter) => letter.key === doomed.transactionId), `${doomed.transactionId} on ${trapline.topics.deletionsDlq}`, 60000);
    expect(dead.reason).toMatch(/project 987654/);
    const shown = runCli(trapline.env, ['decode', 'deletions.dlq', '--key', doomed.transactionId], 60000);
    expect(JSON.parse(shown.stdout.trim().split('\n')[0]!)).toMatchObject({ schema: 'DeletionStep', value: { transactionId: doomed.transactionId, attempt: 2, lastError: expect.stringMatching(/project 987654/) } });
  });

  it('ends with no lag on any topic it reads', async () => {
    const topics = [trapline.topics.events, trapline.topics.deletionsDelay, trapline.topics.deletionsRun, trapline.topics.deletionsRetry];
    await eventually(async () => ((await groupLag(trapline.config, trapline.config.deleterGroup, topics)) === 0 ? true : undefined), 'no deleter lag');
  });

  // A deletion request for a project the read models do not know (once the projector has passed it)
  // goes to the deletions DLQ with its reason, and the requests behind it on its partition proceed.
  it('takes in deletion requests behind one it cannot take in (a project the read models do not know)', async () => {
    const projectId = trapline.defaults.projectId;
    const unknown = unique();
    // On the default project's partition (its key), for a project that does not exist.
    await trapline.appender.append(trapline.topics.events, [
      { key: `${projectId}/deletion/${unknown}`, name: 'EventDeletionRequested', value: { projectId: 987655, eventId: unique(), transactionId: unknown, actor: 'system:poison-test', requestedAt: now() } },
    ]);
    await deleteEvent(await store('deleted behind a request for an unknown project'), 20000);
    // The request behind it was taken in after it on the same partition, so its dead letter is committed by now.
    const dead = deadLetters(trapline.topics.deletionsDlq).find((letter) => letter.key === unknown);
    expect(dead?.reason ?? '(none)', `the request for project 987655 on ${trapline.topics.deletionsDlq}`).toMatch(/cannot take the request in: .*987655/);
  });
});
