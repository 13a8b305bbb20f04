import { Codec, type NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from '@trapline/projector/grouping';
import { normalizeEvent, serializeEvent } from '../services/ingest/src/domain/normalize.ts';
import { emptyState, observeEvent } from '../services/notifier/src/domain/issue-state.ts';
import { realisticEvent } from './events.ts';

// The CPU of the notifier's per-event steps (Avro decode, JSON.parse of the payload, grouping, the
// issue state), in-process on 20,000 bench events (µs per event, best of 5), and with --alloc what
// each allocates (run it with a young generation that does not collect meanwhile):
//   npx tsx bench/notifier-steps.ts
//   node --max-semi-space-size=512 --min-semi-space-size=512 --import tsx bench/notifier-steps.ts --alloc
const codec = new Codec();
const N = 20000;
const base = Date.now();
const records = Array.from({ length: N }, (_, n) => {
  const issue = n % 100 === 0 ? 1_000_000 + n : n % 20;
  const raw = { ...realisticEvent(issue, 1024, Number.MAX_SAFE_INTEGER), event_id: n.toString(16).padStart(32, '0') };
  const normalized = normalizeEvent({ event: JSON.parse(JSON.stringify(raw)), received: (base + n) / 1000 });
  if (!normalized.ok) throw new Error('normalize');
  const payload = serializeEvent(normalized.value);
  return codec.encode('EventReceived', { projectId: 1, eventId: normalized.value.event_id, receivedAt: base + n, keyId: 'k', payload });
});
console.log('payload bytes', records[0]!.value.length);
const time = (name: string, fn: () => void) => {
  let best = Infinity;
  for (let round = 0; round < 5; round += 1) {
    const started = process.cpuUsage();
    fn();
    const used = process.cpuUsage(started);
    best = Math.min(best, used.user + used.system);
  }
  console.log(name.padEnd(40), (best / N).toFixed(2), 'µs/event');
};
const decoded = records.map((record) => codec.decode(record.headers, record.value)).map((d) => (d.ok ? d.record.value : null)) as { payload: string; projectId: number; receivedAt: number }[];
const parsed = decoded.map((value) => JSON.parse(value.payload) as NormalizedEvent);
time('avro decode', () => { for (const r of records) codec.decode(r.headers, r.value); });
time('JSON.parse payload', () => { for (const v of decoded) JSON.parse(v.payload); });
time('groupHashes', () => { for (const e of parsed) groupHashes(e); });
const hashes = parsed.map((e) => groupHashes(e).hashes[0]!);
time('observeEvent (map of states)', () => {
  const states = new Map<string, ReturnType<typeof emptyState>>();
  for (let i = 0; i < N; i += 1) {
    const key = `1/issue/${hashes[i]}`;
    const observed = observeEvent(states.get(key) ?? emptyState(1, hashes[i]!), decoded[i]!.receivedAt);
    if (observed.kind === 'counted') states.set(key, observed.state);
  }
});

// Bytes allocated per event by each step (heap growth with a young generation large enough not to collect).
const allocated = (name: string, fn: (i: number) => unknown) => {
  const M = 2000;
  const keep: unknown[] = new Array(M);
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < M; i += 1) keep[i] = fn(i);
  const after = process.memoryUsage().heapUsed;
  console.log(name.padEnd(40), Math.round((after - before) / M), 'B/event');
};
if (process.argv.includes('--alloc')) {
  allocated('avro decode', (i) => codec.decode(records[i]!.headers, records[i]!.value));
  allocated('JSON.parse payload', (i) => JSON.parse(decoded[i]!.payload));
  allocated('groupHashes', (i) => groupHashes(parsed[i]!));
  allocated('observeEvent', (i) => observeEvent(emptyState(1, hashes[i]!), decoded[i]!.receivedAt));
}

// The decide loop's per-event work in one pass, on records not decoded before (as in the service).
{
  let best = Infinity;
  for (let round = 0; round < 5; round += 1) {
    const fresh = records.map((r) => ({ headers: r.headers, value: Buffer.from(r.value) }));
    const started = process.cpuUsage();
    const states = new Map<string, ReturnType<typeof emptyState>>();
    for (const r of fresh) {
      const d = codec.decode(r.headers, r.value);
      if (!d.ok) continue;
      const v = d.record.value as { payload: string; receivedAt: number };
      const event = JSON.parse(v.payload) as NormalizedEvent;
      const hash = groupHashes(event).hashes[0]!;
      const key = `1/issue/${hash}`;
      const observed = observeEvent(states.get(key) ?? emptyState(1, hash), v.receivedAt);
      if (observed.kind === 'counted') states.set(key, observed.state);
    }
    const used = process.cpuUsage(started);
    best = Math.min(best, used.user + used.system);
  }
  console.log('one pass: decode, parse, group, observe'.padEnd(40), (best / N).toFixed(2), 'µs/event');
}
