import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { untypedFields } from '../../../../test/answer-fields.ts';
import type { DeliveryRow, DeployRow, HookRow, MemberRow, ProjectRow, ReleaseRow, RepositoryRow, RuleRow, UserRow } from '@trapline/runtime';
import { serializeMember, serializeMemberDetail, serializeUser, serializeUserToken } from './accounts.ts';
import { serializeDelivery, serializeHook, serializeRule } from './alerts-serialize.ts';
import * as answers from './answers.ts';
import { chunkUploadOptions } from './artifact-bundle.ts';
import { serializeCommits, serializeDeploy, serializeRelease, serializeRepository } from './releases.ts';
import { serializeProject } from './serialize.ts';
import { serializeTeamMember } from './team-members.ts';

// The response schemas of the routes the serializer test (serialize.exact.test.ts) does not sample:
// releases, commits, deploys, repositories, release files and uploads; users, members, sessions,
// invitations and user tokens; alert rules, hooks and deliveries. Given what the serializer (or the
// route) sends, the schema takes it and types every field of it; and the OpenAPI document's
// descriptions, exactly.

const at = (iso: string) => new Date(iso);
const NOW = Date.parse('2026-12-02T10:00:00.000Z');

const project: ProjectRow = {
  id: 3,
  organization_slug: 'acme',
  slug: 'web',
  name: 'Web',
  platform: 'node',
  created_at: at('2026-01-01T00:00:00.000Z'),
  retention_days: null,
  allowed_origins: null,
  organization_name: 'Acme',
  organization_created_at: at('2026-01-01T00:00:00.000Z'),
  teams: [],
  first_event: null,
};
const repository: RepositoryRow = { name: 'acme/web', url: 'https://git.example.com/acme/web', created_at: at('2026-01-01T00:00:00.000Z') };
const deploy: DeployRow = { deploy_id: 'd1', environment: 'production', name: 'deploy 1', url: 'https://ci.example.com/d1', date_started: at('2026-01-03T00:00:00.000Z'), date_finished: at('2026-01-04T00:00:00.000Z'), project_ids: [3] };
const release: ReleaseRow = {
  version: 'web@1.0',
  declared_project_ids: [3],
  seen_project_ids: [3],
  ref: 'main',
  url: 'https://ci.example.com/1',
  date_created: at('2026-01-01T00:00:00.000Z'),
  date_started: at('2026-01-01T01:00:00.000Z'),
  date_released: at('2026-01-02T00:00:00.000Z'),
  commits: [{ id: 'abc', repository: 'acme/web', message: 'fix', authorName: 'Ada', authorEmail: 'ada@example.com', timestamp: Date.parse('2025-12-31T00:00:00.000Z') }],
  declared: true,
  first_event: at('2026-01-02T00:00:00.000Z'),
  last_event: at('2026-01-03T00:00:00.000Z'),
  new_groups: 4,
  deploy_count: 2,
};

const user: UserRow = { id: '7', email: 'ada@example.com', name: 'Ada', created_at: at('2026-01-01T00:00:00.000Z') };
const accepted: MemberRow = {
  id: '42', organization_slug: 'acme', user_id: '7', email: 'ada@example.com', role: 'owner', invite_token_hash: null,
  invite_expires_at: null, invited_by: null, created_at: at('2026-01-01T00:00:00.000Z'), user_name: 'Ada', user_created_at: at('2026-01-01T00:00:00.000Z'),
};
const pending: MemberRow = {
  id: '41', organization_slug: 'acme', user_id: null, email: 'bob@example.com', role: 'admin', invite_token_hash: 'h'.repeat(64),
  invite_expires_at: new Date(NOW + 86_400_000), invited_by: 'user:7', created_at: new Date(NOW), user_name: null,
};

const created = at('2026-01-01T00:00:00.000Z');
const rule: RuleRow = { rule_id: '7', project_id: 3, name: 'New issues', action_match: 'any', filter_match: 'all', frequency: 30, environment: 'production', conditions: [{ id: 'c' }], filters: [], actions: [{ id: 'a' }], status: 'active', created_by: 'user:7', created_at: created };
const hook: HookRow = { hook_id: 'h1', project_id: 3, url: 'https://hooks.example.com/', events: ['event.alert'], secret: 's3cret', status: 'active', created_at: created };
const delivery: DeliveryRow = { delivery_id: 'd1', project_id: 3, group_id: 99, rule_id: '7', rule_name: 'New issues', trigger: 'first_seen', kind: 'webhook', target: 'https://hooks.example.com/', status: 'failed', attempts: 3, last_error: '502', decided_at: created, changed_at: at('2026-01-01T00:05:00.000Z') };

/** A team role as Sentry lists it (Trapline's member detail sends none, the schema describes them). */
const teamRole = { id: 'contributor', name: 'Contributor', desc: 'Can view and act on events.', scopes: ['event:read'], allowed: true, isAllowed: true, isRetired: false, isTeamRolesAllowed: true, isMinimumRoleFor: null };

// Free-form parts: rule conditions, filters and actions are Sentry's open objects; `data` of a
// release is the client's. A commit's author is `{name, email}` or `{}` (Sentry's), so any object.
const OPEN = new Set(['conditions', 'filters', 'actions', 'data', 'version', 'author', 'experiments', 'identities', 'application']);

const samples: [string, z.ZodType, unknown][] = [
  ['repository', answers.repositoryAnswer, serializeRepository('acme', repository)],
  ['deploy', answers.deployAnswer, serializeDeploy(deploy)],
  ['commit', answers.commitAnswer, serializeCommits('acme', release, [repository])[0]],
  ['release', answers.releaseAnswer, serializeRelease('acme', release, [project], deploy)],
  ['release file', answers.releaseFileAnswer, { id: 'f'.repeat(40), name: '~/app.js', dist: null, headers: { Sourcemap: 'app.js.map' }, size: 10, sha1: 'f'.repeat(40), dateCreated: '2026-01-01T00:00:00.000Z' }],
  ['chunk upload options', answers.chunkUploadAnswer, chunkUploadOptions('https://errors.example.com/api/0/organizations/acme/chunk-upload/')],
  ['assemble', answers.assembleAnswer, { state: 'not_found', missingChunks: ['a'.repeat(40)], detail: null }],
  ['user', answers.userAnswer, serializeUser(user)],
  ['member', answers.memberAnswer, serializeMember(accepted, NOW)],
  ['team member', answers.teamMemberAnswer, serializeTeamMember({ ...accepted, team_role: 'admin' }, 'frontend', NOW)],
  ['invited member', answers.invitedMemberAnswer, { ...serializeMember(pending, NOW), inviteLink: 'https://errors.example.com/accept/41/token/' }],
  ['member detail', answers.memberDetailAnswer, { ...serializeMemberDetail(accepted, NOW, { viewerRole: 'owner', owners: 1, teams: [{ slug: 'frontend', team_role: null }] }), teamRoleList: [teamRole] }],
  ['session', answers.sessionAnswer, { user: serializeUser(user), csrfToken: 'c'.repeat(32) }],
  ['me', answers.meAnswer, { ...serializeUser(user), organizations: [{ slug: 'acme', orgRole: 'owner' }] }],
  ['invitation', answers.invitationAnswer, { orgSlug: 'acme', email: 'bob@example.com', orgRole: 'admin', existingUser: false }],
  ['user token', answers.userTokenAnswer, serializeUserToken({ id: '5', token_hash: 'h', user_id: '7', scopes: ['org:read'], label: 'ci', active: true, created_at: created }, 'sntryu_' + 'a'.repeat(64))],
  ['alert rule', answers.alertRuleAnswer, serializeRule(rule, 'web')],
  ['service hook', answers.hookAnswer, serializeHook(hook)],
  ['alert e-mails', answers.alertEmailsAnswer, { emails: ['ops@example.com'] }],
  ['delivery', answers.deliveryAnswer, serializeDelivery(delivery)],
  // Parts of the answers serialize.exact.test.ts samples that its samples leave null or open.
  ['project with a release', answers.projectAnswer, { ...serializeProject(project), latestRelease: { version: 'web@1.0' } }],
  ['root with a user', answers.rootAnswer, { version: '0', auth: { scopes: ['org:read'] }, user: { id: '7', name: 'Ada', username: 'ada@example.com', email: 'ada@example.com' } }],
];

describe('response schemas of releases, accounts and alerts', () => {
  it.each(samples)('the %s answer takes what is sent', (_name, schema, sample) => {
    expect(schema.safeParse(sample).error?.issues ?? []).toEqual([]);
  });

  it.each(samples)('the %s answer types every field it is sent', (_name, schema, sample) => {
    expect(untypedFields(schema, sample, OPEN)).toEqual([]);
  });

  it("a release's last deploy always has a name, '' for a deploy without one (a deploy's own may be null)", () => {
    const answer = serializeRelease('acme', release, [project], { ...deploy, name: null });
    expect(answer.lastDeploy?.name).toBe('');
    expect(answers.releaseAnswer.safeParse(answer).success).toBe(true);
    expect(answers.releaseAnswer.safeParse({ ...answer, lastDeploy: { ...answer.lastDeploy, name: null } }).success).toBe(false);
    expect(answers.deployAnswer.safeParse({ ...serializeDeploy(deploy), name: null }).success).toBe(true);
  });

  it('an event entry has a type, whatever its data, as the OpenAPI document says', () => {
    expect(z.toJSONSchema(answers.eventAnswer, { io: 'output' }).properties?.entries).toEqual({
      type: 'array',
      items: { type: 'object', properties: { type: { type: 'string' }, data: {} }, required: ['type', 'data'], additionalProperties: {} },
    });
  });

  it('a commit author is a name and e-mail or nothing, as the OpenAPI document says', () => {
    expect(z.toJSONSchema(answers.commitAnswer, { io: 'output' }).properties?.author).toEqual({
      anyOf: [
        { type: 'object', properties: { name: { type: ['string', 'null'] }, email: { type: 'string' } }, required: ['name', 'email'], additionalProperties: {} },
        { type: 'object', properties: {}, additionalProperties: {} },
      ],
    });
  });
});

describe("the OpenAPI document's descriptions of the answers", () => {
  it('are exactly these', () => {
    const found = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'description' && typeof value === 'string') found.add(value);
        else walk(value);
      }
    };
    for (const schema of Object.values(answers)) if (schema instanceof z.ZodType) walk(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }));
    expect([...found].sort()).toEqual(
      [
      'ISO 8601, UTC',
      'SimpleEvent, or the full event with ?full=true',
      "Sentry's error body",
      "Trapline's own: days this project keeps its events; null: the deployment's default",
      "Trapline's own: the deletion (or other transaction) the entry belongs to",
      "Trapline's own: the single-use link, shown only in this answer",
      'no content',
      'null while the invitation is pending',
      'ok, not_found (missingChunks) or error (detail)',
      'pending, running, retrying, dead or done',
      "the SDK's modules: package → version",
      'the commit time given, else when it was recorded',
      'the deletion request: follow it at /api/0/deletions/{transactionId}/',
      'the token itself: only in the answer that created it',
      '{period: [[bucket start (epoch seconds), events], …]}, with groupStatsPeriod',
      ].sort(),
    );
  });
});
