import { loadavg } from 'node:os';
import { startTrapline } from '../test/harness.ts';
import { startHttpReceiver } from '../test/receivers.ts';
import { realisticEvent } from './events.ts';
import { cpuSecondsOf, LoadGenerator } from './load.ts';
import { percentile, until, type Scenario } from './report.ts';

// Alert latency at a paced 1,000 events/s of which 1 % open a new issue, with a first-seen rule
// sending to a service hook: from ingest's 200 for a new issue's first event to its webhook
// arriving at a real HTTP receiver (p50, p99), the notifier's CPU-seconds per 1,000 events, and
// that every new issue is alerted exactly once (none lost, none doubled).

const RATE = 1000;
const SECONDS = 30;
const NEW_EVERY = 100;
const OLD_ISSUES = 20;
const EVENT_BYTES = 1024;
const LIMIT_MS = 5 * 60 * 1000;

/** An event of issue `issue` (its own exception type), with event id `n` (distinct per n: ingest dedupes ids). */
function eventBody(n: number, issue: number): Buffer {
  const event = realisticEvent(issue, EVENT_BYTES, Number.MAX_SAFE_INTEGER);
  return Buffer.from(JSON.stringify({ ...event, event_id: n.toString(16).padStart(32, '0') }));
}

/** The notifier's transactions by input so far: how many, and their seconds in all (its /metrics). */
async function transactionsOf(port: number): Promise<Record<string, { count: number; seconds: number }>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const found: Record<string, { count: number; seconds: number }> = {};
  for (const [, kind, input, value] of text.matchAll(/^trapline_notifier_transaction_seconds_(count|sum)\{[^}]*\binput="([\w+]+)"[^}]*\} (\S+)$/gm)) {
    const entry = (found[input!] ??= { count: 0, seconds: 0 });
    if (kind === 'count') entry.count = Number(value);
    else entry.seconds = Number(value);
  }
  return found;
}

const issueOfHook = (body: string) => Number(/#(\d+)/.exec((JSON.parse(body) as { group: { title: string } }).group.title)?.[1]);

export async function alertsScenario(): Promise<Scenario> {
  const receiver = await startHttpReceiver();
  const trapline = await startTrapline({ LOG_LEVEL: 'warn' });
  const load = new LoadGenerator(64);
  try {
    const { organizationSlug: org, projectSlug: project, projectId } = trapline.defaults;
    const api = (path: string, body: unknown) => fetch(`${trapline.publicUrl}/api/0/projects/${org}/${project}${path}`, { method: 'POST', headers: { authorization: `Bearer ${trapline.defaults.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await api('/hooks/', { url: `${receiver.url}/hook`, events: ['event.alert'] });
    await api('/rules/', { name: 'bench', conditions: [{ id: 'sentry.rules.conditions.first_seen_event.FirstSeenEventCondition' }], actions: [{ id: 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction', service: 'webhooks' }] });
    await until('the rule and hook projected', async () => ((await trapline.pool.query('SELECT (SELECT count(*) FROM alert_rules)::int + (SELECT count(*) FROM service_hooks)::int AS n')).rows[0] as { n: number }).n === 3, LIMIT_MS);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the notifier's rule cache (ALERT_RULES_REFRESH_MS, its default)
    const target = `${trapline.config.ingestUrl}/api/${projectId}/store/?sentry_key=${new URL(trapline.defaults.dsn).username}&sentry_version=7`;
    // The issues the paced events mostly fall into exist, alerted, before the measured run.
    for (let issue = 0; issue < OLD_ISSUES; issue += 1) await load.post(target, eventBody(issue + 1, issue));
    await until('the old issues alerted', async () => receiver.on('/hook').length >= OLD_ISSUES, LIMIT_MS);
    const warm = receiver.on('/hook').length;

    const pid = trapline.services.services.get('notifier')!.process.pid!;
    const cpuBefore = cpuSecondsOf(pid);
    const loadBefore = loadavg()[0]!;
    const transactionsBefore = await transactionsOf(trapline.config.NOTIFIER_PORT);
    const acked = new Map<number, number>();
    let failed = 0;
    let sent = 0;
    const total = RATE * SECONDS;
    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * RATE));
      for (; sent < due; sent += 1) {
        const n = OLD_ISSUES + 1 + sent;
        const issue = sent % NEW_EVERY === 0 ? 1_000_000 + sent : sent % OLD_ISSUES;
        const post = load.post(target, eventBody(n, issue)).then((result) => {
          if (result.status !== 200) failed += 1;
          else if (issue >= 1_000_000) acked.set(issue, Date.now());
        });
        inFlight.add(post);
        void post.finally(() => inFlight.delete(post));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(inFlight);
    await until('every acknowledged new issue alerted', async () => receiver.on('/hook').length - warm >= acked.size, LIMIT_MS);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a late duplicate would arrive by now
    const cpu = cpuSecondsOf(pid) - cpuBefore;
    const loadAfter = loadavg()[0]!;
    const transactionsAfter = await transactionsOf(trapline.config.NOTIFIER_PORT);
    const transactions = Object.fromEntries(Object.entries(transactionsAfter).map(([input, after]) => {
      const count = after.count - (transactionsBefore[input]?.count ?? 0);
      const seconds = after.seconds - (transactionsBefore[input]?.seconds ?? 0);
      return [input, { count, perAlert: +(count / Math.max(1, acked.size)).toFixed(2), meanMs: Math.round((seconds / Math.max(1, count)) * 1000) }];
    }));

    const eventsTransactions = Object.entries(transactions).filter(([input]) => input.split('+').includes('events')).reduce((sum, [, t]) => sum + t.count, 0);
    const allTransactions = Object.values(transactions).reduce((sum, t) => sum + t.count, 0);
    const hooks = receiver.on('/hook').slice(warm);
    const perIssue = new Map<number, number[]>();
    for (const hook of hooks) perIssue.set(issueOfHook(hook.body), [...(perIssue.get(issueOfHook(hook.body)) ?? []), hook.at]);
    const latencies = [...acked].map(([issue, at]) => (perIssue.get(issue)?.[0] ?? Number.NaN) - at).filter(Number.isFinite).sort((a, b) => a - b);
    const lost = [...acked.keys()].filter((issue) => !perIssue.has(issue)).length;
    const doubled = [...perIssue.values()].filter((times) => times.length > 1).length;
    const figures = {
      rate: RATE, seconds: SECONDS, events: total, failed, newIssues: acked.size,
      latencyMs: { p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)) },
      notifierCpuSecondsPer1000Events: +((cpu / total) * 1000).toFixed(4),
      notifierCores: +(cpu / SECONDS).toFixed(3),
      lost, doubled, transactions, transactionsPer1000Events: +((allTransactions / total) * 1000).toFixed(1), loadAverage: { before: +loadBefore.toFixed(1), after: +loadAfter.toFixed(1) },
    };
    return {
      name: 'alerts',
      figures,
      rows: [
        ['alert latency, ingest ack → webhook received', `p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms`, 'goal p99', '2000 ms', `${acked.size} new issues in ${total} events at ${RATE}/s; 1-min load average ${figures.loadAverage.before} → ${figures.loadAverage.after} (2 cores)`],
        ['notifier CPU', `${figures.notifierCpuSecondsPer1000Events} CPU-s per 1,000 events`, 'goal', '0.1 core', `${figures.notifierCores} cores at ${RATE}/s`],
        ['notifier transactions', Object.entries(transactions).map(([input, t]) => `${input}: ${t.count} (${t.perAlert} per alert, mean ${t.meanMs} ms)`).join('; '), '', '', `begin to commit (trapline_notifier_transaction_seconds); ${Math.round(total / Math.max(1, eventsTransactions))} events per transaction committing events`],
        ['alerts lost / doubled', `${lost} / ${doubled}`, '', '', `${failed} events refused by ingest`],
      ],
    };
  } finally {
    await load.close();
    await trapline.dispose();
    await receiver.close();
  }
}
