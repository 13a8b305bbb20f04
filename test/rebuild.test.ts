import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, runCliConcurrently, startTrapline, type RunningTrapline, EVENT_TAG_ROWS } from './harness.ts';
import { compactQuickly, groupLag, untilCompactedAway } from './log.ts';

// Invariant 2, rebuild equals live: a mixed workload (events, status changes, an issue and an event
// deleted to the end, their events erased from the log by compaction), then `trapline rebuild`
// replays the log into fresh tables and swaps them in; every read model and API answer is the
// same, nothing deleted comes back, and the projector carries on without double counting. Then a
// rebuild while the projector runs and traffic keeps coming: nothing sent during it is lost or
// counted twice, and what it leaves is what a rebuild of the whole log gives.

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline({ DELETION_DELAY_SECONDS: '1', DELETION_RETRY_BACKOFF_MS: '500' });
});

afterAll(async () => {
  await trapline?.dispose();
});

const call = (method: string, path: string, body?: unknown) =>
  fetch(`${trapline.publicUrl}/api/0${path}`, {
    method,
    headers: { authorization: `Bearer ${trapline.defaults.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function send(event: Record<string, unknown>): Promise<string> {
  const url = new URL(trapline.defaults.dsn);
  const response = await fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify(event) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

const issuePath = () => `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}`;

const groupOf = (eventId: string) =>
  eventually(async () => {
    const response = await call('GET', `${issuePath()}/events/${eventId}/`);
    return response.ok ? ((await response.json()) as { groupID: string }).groupID : undefined;
  }, `event ${eventId}`);

/** Everything a rebuild must reproduce: the read models row for row, and the API's answers. */
async function snapshot(transactions: string[]) {
  const table = async (sql: string) => (await trapline.pool.query(sql)).rows;
  const issues = (await (await call('GET', `${issuePath()}/issues/?query=&sort=new`)).json()) as { id: string }[];
  return {
    organizations: await table('SELECT * FROM organizations ORDER BY slug'),
    projects: await table('SELECT * FROM projects ORDER BY id'),
    keys: await table('SELECT * FROM project_keys ORDER BY public_key'),
    teams: await table('SELECT * FROM teams ORDER BY id'),
    projectTeams: await table('SELECT * FROM project_teams ORDER BY project_id, team_id'),
    tokens: await table('SELECT * FROM api_tokens ORDER BY token_hash'),
    groups: await table('SELECT * FROM groups ORDER BY id'),
    hashes: await table('SELECT * FROM group_hashes ORDER BY project_id, hash'),
    tombstones: await table('SELECT * FROM group_hash_tombstones ORDER BY project_id, hash, group_id'),
    events: await table('SELECT project_id, event_id, group_id, received_at, occurred_at, level, title, pending_deletion, payload FROM events ORDER BY event_id'),
    tags: await table(`SELECT * FROM ${EVENT_TAG_ROWS} ORDER BY event_id, key`),
    tagValues: await table('SELECT * FROM group_tag_values ORDER BY group_id, key, value'),
    directory: await table('SELECT * FROM event_ids ORDER BY project_id, event_id'),
    deletions: await table('SELECT * FROM deletions ORDER BY transaction_id'),
    audit: await table('SELECT * FROM audit_log ORDER BY id'),
    releases: await table('SELECT * FROM releases ORDER BY organization_slug, version'),
    deploys: await table('SELECT * FROM release_deploys ORDER BY organization_slug, version, deploy_id'),
    repositories: await table('SELECT * FROM repositories ORDER BY organization_slug, name'),
    artifactFiles: await table('SELECT * FROM artifact_files ORDER BY project_id, bundle_id, url'),
    rules: await table('SELECT * FROM alert_rules ORDER BY rule_id'),
    hooks: await table('SELECT * FROM service_hooks ORDER BY hook_id'),
    alertEmails: await table('SELECT * FROM project_alert_emails ORDER BY project_id'),
    deliveries: await table('SELECT * FROM alert_deliveries ORDER BY delivery_id'),
    users: await table('SELECT * FROM users ORDER BY id'),
    members: await table('SELECT * FROM members ORDER BY id'),
    teamMembers: await table('SELECT * FROM team_members ORDER BY team_id, member_id'),
    userTokens: await table('SELECT * FROM user_tokens ORDER BY id'),
    api: {
      members: await (await call('GET', `/organizations/${trapline.defaults.organizationSlug}/members/`)).json(),
      releases: await (await call('GET', `/organizations/${trapline.defaults.organizationSlug}/releases/`)).json(),
      rules: await (await call('GET', `${issuePath()}/rules/`)).json(),
      alertDeliveries: await (await call('GET', `${issuePath()}/alert-deliveries/`)).json(),
      issues,
      teams: await (await call('GET', `/organizations/${trapline.defaults.organizationSlug}/teams/`)).json(),
      teamProjects: await (await call('GET', `/teams/${trapline.defaults.organizationSlug}/platform/projects/`)).json(),
      keys: await (await call('GET', `${issuePath()}/keys/`)).json(),
      auditLog: await (await call('GET', `/organizations/${trapline.defaults.organizationSlug}/audit-logs/`)).json(),
      deletions: await Promise.all(transactions.map(async (id) => (await call('GET', `/deletions/${id}/`)).json())),
      details: await Promise.all(issues.map(async (issue) => (await call('GET', `/issues/${issue.id}/`)).json())),
      events: await Promise.all(issues.map(async (issue) => (await call('GET', `/issues/${issue.id}/events/`)).json())),
    },
  };
}

const cli = (...args: string[]) => runCli(trapline.env, args);

describe('trapline rebuild', () => {
  it('reproduces every read model and API answer, then the projector continues without double counting', async () => {
    const a = await send({ message: 'queue stalled', level: 'error', tags: { region: 'eu' }, user: { id: 'u1' } });
    await send({ message: 'queue stalled', level: 'error', tags: { region: 'us' }, user: { id: 'u2' } });
    const b = await send({ exception: { values: [{ type: 'TypeError', value: 'x is undefined', stacktrace: { frames: [{ function: 'load', filename: 'app/user.js', lineno: 3 }] } }] }, release: 'web@1' });
    const c = await send({ message: 'disk full', level: 'warning' });
    const d = await send({ message: 'to be deleted alone' });
    const [groupA, groupB, groupC] = [await groupOf(a), await groupOf(b), await groupOf(c)];
    await groupOf(d);
    expect((await call('PUT', `/issues/${groupA}/`, { status: 'resolved' })).status).toBe(200);
    expect((await call('PUT', `/issues/${groupB}/`, { status: 'ignored' })).status).toBe(200);
    // Releases: one made, finalized and deployed, one made and deleted; a repository.
    const org = trapline.defaults.organizationSlug;
    expect((await call('POST', `/organizations/${org}/releases/`, { version: 'web@2', projects: [trapline.defaults.projectSlug] })).status).toBe(201);
    expect((await call('POST', `/organizations/${org}/releases/`, { version: 'gone@1', projects: [trapline.defaults.projectSlug] })).status).toBe(201);
    expect((await call('POST', `/organizations/${org}/repos/`, { name: 'acme/web' })).status).toBe(201);
    await eventually(async () => ((await call('GET', `/organizations/${org}/releases/gone@1/`)).ok && (await call('GET', `/organizations/${org}/releases/web@2/`)).ok ? true : undefined), 'the releases');
    expect((await call('PUT', `/organizations/${org}/releases/web@2/`, { dateReleased: new Date().toISOString() })).status).toBe(200);
    expect((await call('POST', `/organizations/${org}/releases/web@2/deploys/`, { environment: 'production' })).status).toBe(201);
    expect((await call('DELETE', `/organizations/${org}/releases/gone@1/`)).status).toBe(204);
    // A release file (a one-file artifact bundle on the events topic; its bytes in the blob store).
    const form = new FormData();
    form.append('name', '~/static/app.min.js');
    form.append('file', new Blob(['function a(){}\n//# sourceMappingURL=app.min.js.map\n']), 'app.min.js');
    expect((await fetch(`${trapline.publicUrl}/api/0/organizations/${org}/releases/web@2/files/`, { method: 'POST', headers: { authorization: `Bearer ${trapline.defaults.token}` }, body: form })).status).toBe(201);
    const deleteIssue = await call('DELETE', `/issues/${groupC}/`);
    const deleteEvent = await call('DELETE', `${issuePath()}/events/${d}/`);
    expect([deleteIssue.status, deleteEvent.status]).toEqual([202, 202]);
    const transactions = await Promise.all([deleteIssue, deleteEvent].map(async (response) => ((await response.json()) as { transactionId: string }).transactionId));
    await send({ message: 'disk full', level: 'warning' }); // after the deletion: a fresh issue
    // Teams, a project in one, a key's rate limit: admin records the rebuild must give back.
    expect((await call('POST', `/organizations/${trapline.defaults.organizationSlug}/teams/`, { slug: 'platform', name: 'Platform' })).status).toBe(201);
    await eventually(async () => ((await call('POST', `/teams/${trapline.defaults.organizationSlug}/platform/projects/`, { name: 'Checkout' })).status === 201 ? true : undefined), 'the project in the team');
    const [key] = (await (await call('GET', `${issuePath()}/keys/`)).json()) as { id: string }[];
    expect((await call('PUT', `${issuePath()}/keys/${key!.id}/`, { rateLimit: { count: 1000, window: 60 } })).status).toBe(200);
    await eventually(async () => {
      const rows = (await trapline.pool.query('SELECT (SELECT count(*)::int FROM project_teams) AS teams, (SELECT count(*)::int FROM project_keys WHERE rate_limit_count = 1000) AS limited')).rows[0] as { teams: number; limited: number };
      return rows.teams === 1 && rows.limited === 1 ? true : undefined;
    }, 'the admin records projected');
    // Alerting: a rule, a hook and the alert addresses besides the default rule; with no SMTP server
    // every new issue's e-mail is logged as not sent.
    expect((await call('POST', `${issuePath()}/rules/`, { name: 'regressions', conditions: [{ id: 'sentry.rules.conditions.regression_event.RegressionEventCondition' }], actions: [{ id: 'sentry.mail.actions.NotifyEmailAction', targetType: 'IssueOwners' }] })).status).toBe(201);
    expect((await call('POST', `${issuePath()}/hooks/`, { url: 'http://127.0.0.1:9/hook', events: ['event.alert'] })).status).toBe(201);
    expect((await call('PUT', `${issuePath()}/alert-emails/`, { emails: ['ops@example.com'] })).status).toBe(200);
    // People: a member, an invitation, a removed member and a removed user (null-value records).
    // On a team: the member kept, and two who then go (their team memberships with them).
    const run = (...commands: string[][]) => commands.forEach((args) => expect(cli(...args).status).toBe(0));
    run(['users', 'create', 'kept@example.com', '--org', org, '--role', 'admin'], ['users', 'create', 'gone@example.com', '--org', org], ['users', 'create', 'left@example.com', '--org', org], ['members', 'invite', org, 'invited@example.com', '--role', 'manager']);
    const members = (await (await call('GET', `/organizations/${org}/members/`)).json()) as { id: string; email: string }[];
    for (const email of ['kept@example.com', 'gone@example.com', 'left@example.com']) {
      expect((await call('POST', `/organizations/${org}/members/${members.find((member) => member.email === email)!.id}/teams/platform/`)).status).toBe(201);
    }
    run(['users', 'remove', 'gone@example.com'], ['members', 'remove', org, 'left@example.com']);
    await eventually(async () => {
      const done = (await trapline.pool.query("SELECT count(*)::int AS n FROM deletions WHERE state = 'done'")).rows[0] as { n: number };
      const statuses = (await trapline.pool.query("SELECT count(*)::int AS n FROM groups WHERE status IN ('resolved', 'ignored')")).rows[0] as { n: number };
      const events = (await trapline.pool.query('SELECT count(*)::int AS n FROM events')).rows[0] as { n: number };
      const releases = (await trapline.pool.query('SELECT count(*)::int AS n FROM releases')).rows[0] as { n: number };
      const deploys = (await trapline.pool.query('SELECT count(*)::int AS n FROM release_deploys')).rows[0] as { n: number };
      const files = (await trapline.pool.query('SELECT count(*)::int AS n FROM artifact_files')).rows[0] as { n: number };
      const alerting = (await trapline.pool.query("SELECT count(*) FILTER (WHERE status = 'not_sent')::int AS logged, count(*) FILTER (WHERE status = 'pending')::int AS pending, (SELECT count(*)::int FROM service_hooks) AS hooks, (SELECT count(*)::int FROM project_alert_emails) AS emails FROM alert_deliveries")).rows[0] as { logged: number; pending: number; hooks: number; emails: number };
      return done.n === 2 && statuses.n === 2 && events.n === 4 && releases.n === 1 && deploys.n === 1 && files.n === 1 && alerting.logged === 5 && alerting.pending === 0 && alerting.hooks === 1 && alerting.emails === 1 ? true : undefined;
    }, 'the workload projected, both deletions done and every new issue\'s alert logged', 60000);
    // The erased events leave the log too, so the rebuild never sees them.
    await compactQuickly(trapline.config, trapline.topics.events);
    const erased = new Set([c, d].map((id) => `${trapline.defaults.projectId}/${id}`));
    await untilCompactedAway(trapline.config, trapline.topics.events, erased, () => trapline.appender.append(trapline.topics.events, [{ key: `${trapline.defaults.projectId}/segment-roll`, tombstone: true }]));
    const live = await snapshot(transactions);
    expect((live.groups as { id: number }[]).map((group) => String(group.id))).not.toContain(groupC);
    expect(live.events as { event_id: string }[]).not.toContainEqual(expect.objectContaining({ event_id: d }));
    // A row that is not in the log: the rebuilt tables must not have it.
    await trapline.pool.query("INSERT INTO organizations (slug, name, created_at) VALUES ('not-in-the-log', 'x', now())");

    await trapline.services.stop('projector');
    const rebuilt = cli('rebuild');
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(rebuilt.stderr).toMatch(/records\/s/);
    expect(await snapshot(transactions)).toEqual(live);
    expect((live.teamMembers as { member_id: string }[]).map((row) => row.member_id)).toEqual([members.find((member) => member.email === 'kept@example.com')!.id]);

    await trapline.services.start('projector');
    const e = await send({ message: 'queue stalled', level: 'error' });
    expect(await groupOf(e)).toBe(groupA);
    const total = (await trapline.pool.query('SELECT sum(times_seen)::int AS n FROM groups')).rows[0] as { n: number };
    expect(total.n).toBe((live.groups as { times_seen: number }[]).reduce((sum, group) => sum + group.times_seen, 0) + 1);

    // Online: the projector runs, events keep coming, and one issue is resolved then regresses.
    await trapline.pool.query("INSERT INTO organizations (slug, name, created_at) VALUES ('not-in-the-log-either', 'x', now())");
    const online = runCliConcurrently(trapline.env, ['rebuild']);
    let finished = false;
    void online.then(() => (finished = true));
    const during: string[] = [];
    const messages = ['queue stalled', 'disk full', 'socket hang up', 'cache miss storm'];
    while (!finished || during.length < 20) {
      during.push(await send({ message: messages[during.length % messages.length]!, level: 'error', tags: { round: String(during.length % 3) }, user: { id: `u${during.length % 5}` } }));
      if (during.length === 6) expect((await call('PUT', `/issues/${await groupOf(during[3]!)}/`, { status: 'resolved' })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result = await online;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/the projector keeps running/);
    await eventually(async () => ((await groupLag(trapline.config, trapline.config.projectorGroup, [trapline.topics.events])) === 0 ? true : undefined), 'the projector caught up', 60000);
    const counted = (await trapline.pool.query('SELECT sum(times_seen)::int AS n FROM groups')).rows[0] as { n: number };
    expect(counted.n).toBe(total.n + during.length);
    expect((await trapline.pool.query("SELECT slug FROM organizations WHERE slug LIKE 'not-in-the-log%'")).rows).toEqual([]);
    const afterOnline = await snapshot(transactions);
    expect((afterOnline.groups as { status: string; title: string }[]).find((group) => group.title === 'cache miss storm')?.status).toBe('unresolved');

    // The reference: the same log rebuilt with the projector stopped.
    await trapline.services.stop('projector');
    const reference = cli('rebuild');
    expect(reference.status, reference.stderr).toBe(0);
    expect(await snapshot(transactions)).toEqual(afterOnline);
    await trapline.services.start('projector');
  }, 300000);
});
