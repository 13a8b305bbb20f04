import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '@trapline/api';
import { Appender, createKafka, createLogger } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { injectableApi, isolated, runCli, type Isolated } from './harness.ts';

// The read side of deletions and the audit log: the API and `trapline deletions list` over the
// rows the projector writes, inserted here as fixtures (the projector's own tests fill them).

let env: Isolated;
let appender: Appender;
let app: FastifyInstance;

const TOKENS = {
  admin: ['acme', ['org:admin', 'project:admin', 'event:admin']],
  orgRead: ['acme', ['org:read', 'event:read']],
  orgWrite: ['acme', ['org:write']],
  other: ['other', ['org:admin', 'project:admin', 'event:admin']],
} as const;
type TokenName = keyof typeof TOKENS;
const tokenOf = (name: TokenName) => `tpl_test_${name}`;
const ADMIN_ACTOR = `token:${hashToken(tokenOf('admin')).slice(0, 12)}`;

const tx = (n: number) => n.toString(16).padStart(32, '0');
const GROUP_DONE = tx(1);
const EVENT_PENDING = tx(2);
const GROUP_DEAD = tx(3);
const OTHER_ORG = tx(4);
const EVENT_ID = 'ab'.repeat(16);
const minute = (n: number) => new Date(Date.UTC(2024, 10, 26, 10, n));

async function insertFixtures(): Promise<void> {
  const { pool } = env;
  await pool.query(`INSERT INTO organizations (slug, name, created_at) VALUES ('acme', 'Acme', now()), ('other', 'Other', now())`);
  await pool.query(`INSERT INTO projects (id, organization_slug, slug, name, platform, created_at) VALUES (1, 'acme', 'web', 'Web', null, now()), (2, 'other', 'site', 'Site', null, now())`);
  for (const [name, [org, scopes]] of Object.entries(TOKENS)) {
    await pool.query(`INSERT INTO api_tokens (token_hash, organization_slug, scopes, label, active, created_at) VALUES ($1, $2, $3, $4, true, now())`, [hashToken(tokenOf(name as TokenName)), org, scopes, name]);
  }
  const deletions: [string, string, number, number | null, string | null, string, Date, string, number, string | null, number, number, number, Date | null][] = [
    [GROUP_DONE, 'group', 1, 4503599627370495, null, ADMIN_ACTOR, minute(0), 'done', 0, null, 2, 150, 600, minute(61)],
    [EVENT_PENDING, 'event', 1, null, EVENT_ID, ADMIN_ACTOR, minute(2), 'pending', 0, null, 0, 0, 0, null],
    [GROUP_DEAD, 'group', 1, 77, null, 'system:retention', minute(3), 'dead', 5, 'statement timeout', 1, 100, 400, null],
    [OTHER_ORG, 'group', 2, 88, null, 'token:ffffffffffff', minute(4), 'running', 0, null, 1, 10, 40, null],
  ];
  for (const row of deletions) {
    await pool.query(
      `INSERT INTO deletions (transaction_id, kind, project_id, group_id, event_id, actor, requested_at, state, attempts, last_error, chunks, events_removed, rows_removed, completed_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $7)`,
      row,
    );
  }
  const audit: [string, string, number, string, string, string, string, object, Date][] = [
    [`${GROUP_DONE}:requested`, 'acme', 1, 'issue.delete', ADMIN_ACTOR, GROUP_DONE, '4503599627370495', { issueId: '4503599627370495', shortId: 'WEB-1A2B3C', title: 'TypeError: boom' }, minute(0)],
    [`${EVENT_PENDING}:requested`, 'acme', 1, 'event.delete', ADMIN_ACTOR, EVENT_PENDING, EVENT_ID, { eventId: EVENT_ID }, minute(2)],
    [`${GROUP_DEAD}:requested`, 'acme', 1, 'issue.delete', 'system:retention', GROUP_DEAD, '77', { issueId: '77', shortId: 'WEB-2', title: 'old' }, minute(3)],
    [`${OTHER_ORG}:requested`, 'other', 2, 'issue.delete', 'token:ffffffffffff', OTHER_ORG, '88', { issueId: '88' }, minute(4)],
    [`${GROUP_DONE}:completed`, 'acme', 1, 'issue.delete.completed', ADMIN_ACTOR, GROUP_DONE, '4503599627370495', { eventsRemoved: 150, rowsRemoved: 600, logRecordsRemoved: 150, chunks: 2 }, minute(61)],
  ];
  for (const row of audit) {
    await pool.query(
      `INSERT INTO audit_log (id, organization_slug, project_id, event, actor, transaction_id, target_object, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      row,
    );
  }
}

beforeAll(async () => {
  env = await isolated();
  const logger = createLogger('test', 'error');
  appender = await Appender.connect(createKafka(env.config.kafkaBrokers, 'test-audit-api', logger), new Codec());
  app = await injectableApi(env, appender, logger);
  await insertFixtures();
});

afterAll(async () => {
  await app?.close();
  await appender?.close();
  await env?.dispose();
});

const get = (url: string, token: TokenName | null = 'admin') => app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${tokenOf(token)}` } : {} });

type AuditPage = { rows: { id: string; event: string; actor: { id: string } }[]; options: string[] };
const ids = async (url: string, token?: TokenName) => ((await get(url, token)).json() as AuditPage).rows.map((row) => row.id);

describe('GET /api/0/organizations/{org}/audit-logs/', () => {
  it("answers Sentry's shape, newest first, only the organization's entries", async () => {
    const response = await get('/api/0/organizations/acme/audit-logs/');
    expect(response.statusCode).toBe(200);
    const body = response.json() as AuditPage;
    expect(body.options).toEqual(['issue.delete', 'issue.delete.completed', 'event.delete', 'event.delete.completed', 'member.invite', 'member.accept', 'member.edit', 'member.remove', 'member.join-team', 'member.leave-team']);
    expect(body.rows.map((row) => row.id)).toEqual([`${GROUP_DONE}:completed`, `${GROUP_DEAD}:requested`, `${EVENT_PENDING}:requested`, `${GROUP_DONE}:requested`]);
    expect(body.rows[0]).toEqual({
      id: `${GROUP_DONE}:completed`,
      actor: { id: ADMIN_ACTOR, name: `API token ${ADMIN_ACTOR.slice(6)}`, type: 'token' },
      event: 'issue.delete.completed',
      ipAddress: null,
      note: 'deleted issue 4503599627370495 (150 events, 600 rows removed)',
      targetObject: 4503599627370495,
      targetUser: null,
      data: { eventsRemoved: 150, rowsRemoved: 600, logRecordsRemoved: 150, chunks: 2 },
      dateCreated: minute(61).toISOString(),
      transactionId: GROUP_DONE,
    });
    expect(body.rows[1]).toMatchObject({ actor: { id: 'system:retention', name: 'Trapline retention', type: 'system' }, note: 'requested deletion of issue WEB-2 (old)' });
    expect(body.rows[2]).toMatchObject({ targetObject: EVENT_ID, data: { eventId: EVENT_ID } });
  });

  it('pages with cursors and a Sentry Link header', async () => {
    const first = await get('/api/0/organizations/acme/audit-logs/?per_page=3');
    expect(first.headers.link).toMatch(/rel="previous"; results="false"; cursor="0:0:1".*rel="next"; results="true"; cursor="0:3:0"/);
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))![1]!;
    expect(next).toBe(`${env.config.PUBLIC_URL}/api/0/organizations/acme/audit-logs/?per_page=3&cursor=0%3A3%3A0`);
    const second = await get(new URL(next).pathname + new URL(next).search);
    expect(second.headers.link).toMatch(/rel="previous"; results="true".*rel="next"; results="false"/);
    const pages = [...(first.json() as AuditPage).rows, ...(second.json() as AuditPage).rows].map((row) => row.id);
    expect(pages).toEqual(await ids('/api/0/organizations/acme/audit-logs/'));
  });

  it.each([
    ['event=issue.delete', [`${GROUP_DEAD}:requested`, `${GROUP_DONE}:requested`]],
    ['event=event.delete.completed', []],
    ['event=no.such.event', []],
    [`actor=${encodeURIComponent('system:retention')}`, [`${GROUP_DEAD}:requested`]],
    [`actor=${encodeURIComponent(ADMIN_ACTOR)}&event=issue.delete`, [`${GROUP_DONE}:requested`]],
    ['actor=token%3Affffffffffff', []],
  ])('filters ?%s', async (query, expected) => {
    expect(await ids(`/api/0/organizations/acme/audit-logs/?${query}`)).toEqual(expected);
  });

  it("answers 404 for another organization's slug and shows each token its own log", async () => {
    const response = await get('/api/0/organizations/other/audit-logs/');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'The requested resource does not exist' });
    expect(await ids('/api/0/organizations/other/audit-logs/', 'other')).toEqual([`${OTHER_ORG}:requested`]);
  });

  it('needs org:write, as in Sentry (401 without a token, 403 with org:read)', async () => {
    expect((await get('/api/0/organizations/acme/audit-logs/', null)).statusCode).toBe(401);
    const refused = await get('/api/0/organizations/acme/audit-logs/', 'orgRead');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
    expect((await get('/api/0/organizations/acme/audit-logs/', 'orgWrite')).statusCode).toBe(200);
  });

  it.each(['per_page=0', 'per_page=101', 'cursor=nope', `actor=${'x'.repeat(201)}`])('answers 400 for ?%s', async (query) => {
    const response = await get(`/api/0/organizations/acme/audit-logs/?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: expect.stringMatching(/\S/) });
  });
});

describe('GET /api/0/deletions/{transaction_id}/', () => {
  it('shows a finished group deletion with its audit trail, oldest first', async () => {
    const response = await get(`/api/0/deletions/${GROUP_DONE}/`, 'orgRead');
    expect(response.statusCode).toBe(200);
    const audit = (await get(`/api/0/organizations/acme/audit-logs/?event=issue.delete`)).json() as AuditPage;
    const completed = (await get(`/api/0/organizations/acme/audit-logs/?event=issue.delete.completed`)).json() as AuditPage;
    expect(response.json()).toEqual({
      transactionId: GROUP_DONE,
      kind: 'group',
      status: 'done',
      projectId: '1',
      projectSlug: 'web',
      issueId: '4503599627370495',
      eventId: null,
      actor: { id: ADMIN_ACTOR, name: `API token ${ADMIN_ACTOR.slice(6)}`, type: 'token' },
      dateRequested: minute(0).toISOString(),
      dateCompleted: minute(61).toISOString(),
      attempts: 0,
      lastError: null,
      progress: { chunks: 2, eventsRemoved: 150, rowsRemoved: 600 },
      audit: [audit.rows.find((row) => row.id === `${GROUP_DONE}:requested`), completed.rows[0]],
    });
  });

  it('shows a pending event deletion and a dead one with its last error', async () => {
    expect((await get(`/api/0/deletions/${EVENT_PENDING}/`)).json()).toMatchObject({ kind: 'event', status: 'pending', issueId: null, eventId: EVENT_ID, dateCompleted: null, audit: [{ event: 'event.delete' }] });
    expect((await get(`/api/0/deletions/${GROUP_DEAD}/`)).json()).toMatchObject({ status: 'dead', attempts: 5, lastError: 'statement timeout', issueId: '77', actor: { type: 'system' } });
  });

  it.each([
    ['unknown', tx(99)],
    ["another organization's", OTHER_ORG],
    ['upper-case', GROUP_DONE.toUpperCase().replace('0', 'A')],
    ['short', 'abc'],
    ['non-hex', 'g'.repeat(32)],
    ['uuid-shaped', '00000000-0000-0000-0000-000000000001'],
  ])('answers 404 for an %s transaction id', async (_what, id) => {
    const response = await get(`/api/0/deletions/${id}/`);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'The requested resource does not exist' });
  });

  it("lets the other organization read its own deletion", async () => {
    expect((await get(`/api/0/deletions/${OTHER_ORG}/`, 'other')).json()).toMatchObject({ status: 'running', projectSlug: 'site', audit: [{ id: `${OTHER_ORG}:requested` }] });
  });

  it('needs event:read', async () => {
    expect((await get(`/api/0/deletions/${GROUP_DONE}/`, 'orgWrite')).statusCode).toBe(403);
  });
});

it('describes both endpoints in the OpenAPI document', async () => {
  const paths = ((await get('/api/0/openapi.json', null)).json() as { paths: Record<string, { get?: { summary?: string; parameters?: { name: string; in: string; required?: boolean }[] } }> }).paths;
  expect(paths['/api/0/organizations/{org}/audit-logs/']?.get?.parameters?.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['org', 'cursor', 'per_page', 'event', 'actor']));
  const deletion = paths['/api/0/deletions/{transactionId}/']?.get;
  expect(deletion?.summary).toMatch(/status, progress and audit trail/);
  expect(deletion?.parameters?.map(({ name, in: where, required }) => ({ name, in: where, required }))).toEqual([{ name: 'transactionId', in: 'path', required: true }]);
});

describe('trapline deletions list', () => {
  const cli = (...args: string[]) => runCli(env.env, ['deletions', 'list', ...args], 60000);

  it('shows every deletion not done as a table, oldest request first', () => {
    const result = cli();
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^transaction\s+kind\s+project\s+target\s+state\s+attempts\s+chunks\s+events\s+requested\s+updated\s+error\s+actor$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 5))).toEqual([
      [EVENT_PENDING, 'event', '1', EVENT_ID, 'pending'],
      [GROUP_DEAD, 'group', '1', '77', 'dead'],
      [OTHER_ORG, 'group', '2', '88', 'running'],
    ]);
    expect(lines[2]).toMatch(/statement timeout\s+\S+$/);
  });

  it('filters by --state and prints --json', () => {
    const result = cli('--state', 'done', '--json');
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        transactionId: GROUP_DONE,
        kind: 'group',
        projectId: 1,
        groupId: '4503599627370495',
        eventId: null,
        actor: ADMIN_ACTOR,
        state: 'done',
        attempts: 0,
        chunks: 2,
        eventsRemoved: 150,
        rowsRemoved: 600,
        lastError: null,
        requestedAt: minute(0).toISOString(),
        updatedAt: minute(0).toISOString(),
        completedAt: minute(61).toISOString(),
      },
    ]);
  });

  it('refuses an unknown state with exit 2 and the known ones', () => {
    const result = cli('--state', 'stuck');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown state "stuck" \(known: pending, running, retrying, dead, done\)/);
  });
});
