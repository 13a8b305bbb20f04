import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// What an operator's Prometheus and load balancer see: /metrics on every service, counting what
// happened, and liveness distinct from readiness.

type Service = 'ingest' | 'api' | 'projector' | 'deleter' | 'notifier';
const SERVICES: Service[] = ['ingest', 'api', 'projector', 'deleter', 'notifier'];
const READINESS_CHECKS: Record<Service, string[]> = { ingest: ['keys', 'kafka'], api: ['postgres', 'kafka'], projector: ['consumer', 'postgres'], deleter: ['consumer', 'postgres'], notifier: ['consumer', 'postgres'] };

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline();
});

afterAll(async () => {
  await trapline?.dispose();
});

const url = (service: Service, path: string) => {
  const ports = { ingest: trapline.config.INGEST_PORT, api: trapline.config.API_PORT, projector: trapline.config.PROJECTOR_PORT, deleter: trapline.config.DELETER_PORT, notifier: trapline.config.NOTIFIER_PORT };
  return `http://127.0.0.1:${ports[service]}${path}`;
};

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, samples only. */
function parseMetrics(text: string): { samples: Sample[]; types: Set<string> } {
  const samples: Sample[] = [];
  const types = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) types.add(type[1]!);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((match) => [match[1]!, match[2]!]));
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

async function scrape(service: Service) {
  const response = await fetch(url(service, '/metrics'));
  expect(response.status).toBe(200);
  return parseMetrics(await response.text());
}

/** The samples of `name` whose labels include `labels`. */
function find(metrics: { samples: Sample[] }, name: string, labels: Record<string, string> = {}): Sample[] {
  return metrics.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

const value = (metrics: { samples: Sample[] }, name: string, labels: Record<string, string> = {}) => find(metrics, name, labels).reduce((sum, sample) => sum + sample.value, 0);

describe('metrics', () => {
  it('ingest counts accepted events, rejections by reason, items it does not store, appends and requests', async () => {
    const dsn = new URL(trapline.defaults.dsn);
    const base = `http://127.0.0.1:${trapline.config.INGEST_PORT}/api/${trapline.defaults.projectId}`;
    const auth = `?sentry_key=${dsn.username}&sentry_version=7`;
    const accepted = await fetch(`${base}/store/${auth}`, { method: 'POST', body: JSON.stringify({ message: 'counted' }) });
    expect(accepted.status).toBe(200);
    const rejected = await fetch(`${base}/store/${auth}`, { method: 'POST', body: '{not json' });
    expect(rejected.status).toBe(400);
    const envelope = [JSON.stringify({ dsn: dsn.toString() }), JSON.stringify({ type: 'session' }), '{}', JSON.stringify({ type: 'made_up' }), '{}'].join('\n');
    expect((await fetch(`${base}/envelope/`, { method: 'POST', body: envelope })).status).toBe(200);

    const metrics = await scrape('ingest');
    expect(value(metrics, 'trapline_ingest_outcomes_total', { service: 'ingest', outcome: 'accepted', reason: 'event' })).toBe(1);
    expect(value(metrics, 'trapline_ingest_outcomes_total', { outcome: 'rejected', reason: 'invalid_json' })).toBe(1);
    expect(value(metrics, 'trapline_ingest_dropped_items_total', { type: 'session', reason: 'unsupported' })).toBe(1);
    expect(value(metrics, 'trapline_ingest_dropped_items_total', { type: 'other', reason: 'unknown_type' })).toBe(1);
    expect(value(metrics, 'trapline_ingest_append_seconds_count', { result: 'acked' })).toBe(1);
    // The one event's dedupe lookup and mark; the envelope without an event waits for neither.
    expect(value(metrics, 'trapline_ingest_redis_seconds_count', { step: 'check' })).toBe(1);
    // The answer does not wait for the mark: it is counted when Redis answers it.
    await eventually(async () => (value(await scrape('ingest'), 'trapline_ingest_redis_seconds_count', { step: 'mark' }) === 1 ? true : undefined), 'the dedupe mark counted', 10000);
    expect(value(metrics, 'trapline_ingest_inflight_appends')).toBe(0);
    expect(value(metrics, 'trapline_ingest_inflight_bytes')).toBe(0);
    const store = { method: 'POST', route: '/api/:projectId/store/' };
    expect(value(metrics, 'trapline_http_request_duration_seconds_count', { ...store, status: '200' })).toBe(1);
    expect(value(metrics, 'trapline_http_request_duration_seconds_count', { ...store, status: '400' })).toBe(1);
  });

  it('projector counts records by name, batches and dead letters, and its lag and the deleter\'s reach 0', async () => {
    // A record no schema decodes: the projector dead-letters it and moves on.
    await trapline.appender.appendRaw(trapline.topics.events, [{ key: `${trapline.defaults.projectId}/poison`, value: Buffer.from('not avro'), headers: {} }]);
    const group = trapline.config.projectorGroup;
    const projector = await eventually(async () => {
      const metrics = await scrape('projector');
      const lag = find(metrics, 'trapline_consumer_lag', { group, topic: trapline.topics.events });
      const caughtUp = lag.length > 0 && lag.every((sample) => sample.value === 0);
      return caughtUp && value(metrics, 'trapline_dead_letters_total') === 1 && value(metrics, 'trapline_projector_records_total', { record: 'EventReceived' }) === 1 ? metrics : undefined;
    }, 'the projector caught up with the event and the poison record');
    expect(value(projector, 'trapline_dead_letters_total', { topic: trapline.topics.eventsDlq })).toBe(1);
    expect(value(projector, 'trapline_projector_records_total', { record: 'ProjectKeyUpserted' })).toBeGreaterThanOrEqual(1);
    expect(value(projector, 'trapline_consumer_batch_records_count', { group, topic: trapline.topics.events })).toBeGreaterThanOrEqual(1);
    expect(value(projector, 'trapline_consumer_batch_records_sum', { group, topic: trapline.topics.events })).toBeGreaterThanOrEqual(2);
    expect(value(projector, 'trapline_consumer_batch_seconds_count', { group, topic: trapline.topics.events })).toBeGreaterThanOrEqual(1);

    // The deleter reads the same topic for deletion requests; its lag there reaches 0 too.
    const deleter = await eventually(async () => {
      const metrics = await scrape('deleter');
      const lag = find(metrics, 'trapline_consumer_lag', { group: trapline.config.deleterGroup, topic: trapline.topics.events });
      return lag.length > 0 && lag.every((sample) => sample.value === 0) ? metrics : undefined;
    }, 'the deleter caught up');
    expect(deleter.types).toContain('trapline_deleter_steps_total');
    expect(deleter.types).toContain('trapline_dead_letters_total');
  });

  it('api counts requests by route pattern and status', async () => {
    const { organizationSlug, projectSlug, token } = trapline.defaults;
    const issues = `http://127.0.0.1:${trapline.config.API_PORT}/api/0/projects/${organizationSlug}/${projectSlug}/issues/`;
    expect((await fetch(issues, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(issues)).status).toBe(401);
    const metrics = await scrape('api');
    const route = find(metrics, 'trapline_http_request_duration_seconds_count', { method: 'GET', status: '200' }).find((sample) => sample.labels.route!.endsWith('/issues/') && sample.labels.route!.includes(':'))?.labels.route;
    expect(route).toBeDefined();
    expect(value(metrics, 'trapline_http_request_duration_seconds_count', { route: route!, status: '200' })).toBe(1);
    expect(value(metrics, 'trapline_http_request_duration_seconds_count', { route: route!, status: '401' })).toBe(1);
    expect(find(metrics, 'trapline_http_request_duration_seconds_bucket', { route: route!, status: '200', le: '+Inf' })).toHaveLength(1);
  });

  it('exports every metric the alert rules use', async () => {
    const rules = parse(readFileSync(join(import.meta.dirname, '..', 'deploy', 'alerts.yml'), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
    const used = new Set(rules.groups.flatMap((group) => group.rules.flatMap((rule) => rule.expr.match(/trapline_\w+/g) ?? [])).map((name) => name.replace(/_(bucket|count|sum)$/, '')));
    const exported = new Set<string>();
    for (const service of SERVICES) for (const name of (await scrape(service)).types) exported.add(name.replace(/_total$/, ''));
    for (const name of used) expect(exported, name).toContain(name.replace(/_total$/, ''));
  });
});

describe('health', () => {
  const health = async (service: Service, path: string) => {
    const response = await fetch(url(service, path));
    return { status: response.status, body: (await response.json()) as { status: string; checks?: Record<string, string> } };
  };

  it('is live and ready on every service, each naming its checks; /health answers as readiness', async () => {
    for (const service of SERVICES) {
      expect(await health(service, '/health/live'), service).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = { status: 200, body: { status: 'ok', checks: Object.fromEntries(READINESS_CHECKS[service].map((check) => [check, 'ok'])) } };
      expect(await health(service, '/health/ready'), service).toEqual(ready);
      expect(await health(service, '/health'), service).toEqual(ready);
    }
  });

  it('stays live but is not ready while Postgres refuses connections; ingest keeps its cached keys and stays ready', async () => {
    const database = decodeURIComponent(new URL(trapline.config.DATABASE_URL).pathname.slice(1));
    const server = new pg.Client({ connectionString: trapline.config.DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await server.connect();
    try {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database]);
      for (const service of ['api', 'projector', 'deleter', 'notifier'] as const) {
        const ready = await health(service, '/health/ready');
        expect(ready.status, service).toBe(503);
        expect(ready.body.status).toBe('unavailable');
        expect(ready.body.checks?.postgres, service).not.toBe('ok');
        expect((await health(service, '/health')).status, service).toBe(503);
        expect((await health(service, '/health/live')).status, service).toBe(200);
      }
      expect(value(await scrape('projector'), 'trapline_ready')).toBe(0);
      expect((await health('ingest', '/health/ready')).status).toBe(200);
    } finally {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      await server.end();
    }
    for (const service of SERVICES) await eventually(async () => ((await health(service, '/health/ready')).status === 200 ? true : undefined), `${service} ready again`);
    expect(value(await scrape('projector'), 'trapline_ready')).toBe(1);
  });
});
