import type { EventRow, GroupRow, KeyRow, ProjectRow, TeamRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { NormalizedEvent } from '@trapline/schemas';
import { untypedFields } from '../../../../test/answer-fields.ts';
import { contractProblems } from '../../../../test/contract.ts';
import * as answers from './answers.ts';
import { newProjectKey } from './keys.ts';
import { keyRecord, keyRow, projectRecord } from './rows.ts';
import { serializeEvent, serializeIssue, serializeIssueDetail, serializeKey, serializeListedEvent, serializeOrganization, serializeProject, serializeProjectDetail, serializeSimpleEvent, serializeTags, serializeTeam } from './serialize.ts';

// Read-model rows → Sentry's Web API shapes, with plain rows: what a Sentry client (the UI,
// sentry-cli, scripts) reads. Each answer is also held to Sentry's published OpenAPI response
// schema (test/contract.ts), as the integration contract test holds the live routes.

const ORG = '/api/0/organizations/{organization_id_or_slug}';
const PROJ = '/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}';
const PUBLIC_URL = 'https://errors.example.com';
const at = (iso: string) => new Date(iso);

const project: ProjectRow = {
  id: 42,
  organization_slug: 'acme',
  slug: 'web',
  name: 'Web shop',
  platform: 'javascript',
  created_at: at('2026-01-02T03:04:05.000Z'),
  retention_days: 30,
  allowed_origins: ['https://shop.example.com'],
  organization_name: 'Acme Inc',
  organization_created_at: at('2025-12-31T00:00:00.000Z'),
  teams: [{ id: '3', slug: 'frontend', name: 'Frontend' }],
  first_event: at('2026-02-01T10:00:00.000Z'),
};

const KEY_ROW: KeyRow = {
  public_key: 'a'.repeat(32),
  secret_key: 'b'.repeat(32),
  project_id: 42,
  label: 'Default',
  active: true,
  created_at: at('2026-01-02T00:00:00.000Z'),
  rate_limit_count: null,
  rate_limit_window: null,
};

const TEAM_ROW: TeamRow = { id: 3, organization_slug: 'acme', slug: 'frontend', name: 'Frontend', created_at: at('2026-01-01T00:00:00.000Z') };

const bareProject: ProjectRow = { ...project, platform: null, retention_days: null, allowed_origins: null, teams: [], first_event: null };

const group: GroupRow = {
  id: 1001,
  project_id: 42,
  short_id: 37,
  title: 'TypeError: x is undefined',
  culprit: 'render(app.js)',
  type: 'error',
  metadata: { type: 'TypeError', value: 'x is undefined' },
  level: 'error',
  platform: 'javascript',
  logger: null,
  status: 'unresolved',
  first_seen: at('2026-03-01T00:00:00.000Z'),
  last_seen: at('2026-03-02T12:30:00.000Z'),
  times_seen: 12,
  user_count: 3,
};

describe('issues', () => {
  it('lists an issue with its short id, permalink, counts and Sentry’s neutral fields', () => {
    const answer = serializeIssue(group, project, PUBLIC_URL, { '24h': [[1_772_323_200, 5]] });
    expect(answer).toMatchObject({
      id: '1001',
      shortId: 'WEB-11',
      title: 'TypeError: x is undefined',
      culprit: 'render(app.js)',
      permalink: 'https://errors.example.com/organizations/acme/issues/1001/',
      logger: null,
      level: 'error',
      status: 'unresolved',
      statusDetails: {},
      substatus: 'ongoing',
      platform: 'javascript',
      project: { id: '42', slug: 'web', name: 'Web shop', platform: 'javascript' },
      type: 'error',
      issueType: 'error',
      issueCategory: 'error',
      metadata: { type: 'TypeError', value: 'x is undefined', filename: '' },
      count: '12',
      userCount: 3,
      firstSeen: '2026-03-01T00:00:00.000Z',
      lastSeen: '2026-03-02T12:30:00.000Z',
      lifetime: { count: '12', userCount: 3, firstSeen: '2026-03-01T00:00:00.000Z', lastSeen: '2026-03-02T12:30:00.000Z', stats: null },
      stats: { '24h': [[1_772_323_200, 5]] },
      shareId: null,
      isPublic: false,
      priority: null,
      numComments: 0,
      assignedTo: null,
      isBookmarked: false,
      isSubscribed: false,
      hasSeen: false,
      annotations: [],
      isUnhandled: false,
      derivedData: { blocker: '', progress: '', status: '', viewCount: 0, hasOpenFixPr: false, isAssigned: false, hasRootCause: false, lastCompletedAutofixStep: '', lastProgressedAt: null },
      filtered: null,
      sessionCount: 0,
      integrationIssues: [],
      sentryAppIssues: [],
      latestEventHasAttachments: false,
      matchingEventId: null,
    });
    expect(contractProblems(`GET ${ORG}/issues/`, 200, [answer])).toEqual([]);
    expect(contractProblems(`GET ${PROJ}/issues/`, 200, [answer])).toEqual([]);
  });

  it('gives no stats unless the list asked for them', () => {
    expect(serializeIssue(group, project, PUBLIC_URL).stats).toEqual({});
  });

  it.each([
    ['unresolved', {}, 'ongoing'],
    ['ignored', {}, 'archived_forever'],
    ['resolved', {}, null],
    ['pending_deletion', {}, null],
  ] as const)('a %s issue has statusDetails %j and substatus %s', (status, statusDetails, substatus) => {
    const answer = serializeIssue({ ...group, status }, project, PUBLIC_URL);
    expect(answer).toMatchObject({ status, statusDetails, substatus });
  });

  it('says in which release an issue was resolved', () => {
    expect(serializeIssue({ ...group, status: 'resolved', resolved_in_release: '1.2.0' }, project, PUBLIC_URL).statusDetails).toEqual({ inRelease: '1.2.0' });
    expect(serializeIssue({ ...group, status: 'resolved', resolved_in_next_release: '1.2.0' }, project, PUBLIC_URL).statusDetails).toEqual({ inNextRelease: true });
  });

  it('gives a message issue Sentry’s {title} metadata and the default type', () => {
    const answer = serializeIssue({ ...group, type: 'default', title: 'disk full', metadata: {} }, project, PUBLIC_URL);
    expect(answer).toMatchObject({ type: 'default', issueType: 'default', metadata: { title: 'disk full' } });
    expect(answer.metadata).toEqual({ title: 'disk full' });
  });

  it('fills an error’s metadata with empty type, value and filename when the projector had none', () => {
    expect(serializeIssue({ ...group, metadata: {} }, project, PUBLIC_URL).metadata).toEqual({ type: '', value: '', filename: '' });
  });

  it('details an issue with the list’s fields and the detail’s own, empty', () => {
    const answer = serializeIssueDetail(group, project, PUBLIC_URL);
    expect(answer).toMatchObject({ ...serializeIssue(group, project, PUBLIC_URL), activity: [], seenBy: [], participants: [], userReportCount: 0, pluginActions: [], pluginIssues: [], pluginContexts: [] });
    expect(contractProblems(`GET ${ORG}/issues/{issue_id}/`, 200, answer)).toEqual([]);
  });
});

const exceptionEvent: NormalizedEvent = {
  event_id: 'a'.repeat(32),
  timestamp: 1_772_323_200,
  received: 1_772_323_201,
  level: 'error',
  platform: 'javascript',
  release: 'web@1.2.0',
  dist: '7',
  environment: 'production',
  tags: [['browser', 'Firefox']],
  exception: {
    values: [
      {
        type: 'TypeError',
        value: 'x is undefined',
        stacktrace: {
          frames: [
            { filename: 'node_modules/react/index.js', function: 'callHook', in_app: false },
            { filename: 'src/app.js', function: 'render', lineno: 10, in_app: true },
          ],
        },
      },
    ],
  },
  threads: { values: [{ crashed: true, current: true }] },
  breadcrumbs: { values: [{ message: 'clicked', category: 'ui.click' }] },
  request: { url: 'https://shop.example.com/cart', method: 'GET' },
  user: { id: 'u1' },
  contexts: { browser: { name: 'Firefox' } },
  extra: { cart: 3 },
  sdk: { name: 'sentry.javascript.browser', version: '8.0.0' },
  fingerprint: ['{{ default }}'],
  modules: { react: '19.0.0' },
};

const row = (payload: NormalizedEvent, tags: [string, string][] = [['level', payload.level]]): EventRow => ({
  project_id: 42,
  event_id: payload.event_id,
  group_id: 1001,
  received_at: at('2026-03-01T00:00:01.000Z'),
  occurred_at: at('2026-03-01T00:00:00.000Z'),
  title: 'TypeError: x is undefined',
  message: 'x is undefined',
  payload,
  tags,
});

describe('events', () => {
  it('gives an error event its entries, culprit, crash location and the SDK’s fields', () => {
    const answer = serializeEvent(row(exceptionEvent, [['level', 'error'], ['browser', 'Firefox']]), project, { previous: 'b'.repeat(32), next: null });
    expect(answer).toEqual({
      id: 'a'.repeat(32),
      eventID: 'a'.repeat(32),
      groupID: '1001',
      projectID: '42',
      title: 'TypeError: x is undefined',
      message: 'x is undefined',
      type: 'error',
      platform: 'javascript',
      dateCreated: '2026-03-01T00:00:00.000Z',
      dateReceived: '2026-03-01T00:00:01.000Z',
      culprit: 'render(src/app.js)',
      location: 'src/app.js',
      entries: [
        { type: 'exception', data: { values: exceptionEvent.exception!.values, hasSystemFrames: true, excOmitted: null } },
        { type: 'threads', data: { values: [{ crashed: true, current: true }] } },
        { type: 'breadcrumbs', data: { values: [{ message: 'clicked', category: 'ui.click' }] } },
        { type: 'request', data: { url: 'https://shop.example.com/cart', method: 'GET' } },
      ],
      tags: [{ key: 'level', value: 'error' }, { key: 'browser', value: 'Firefox' }],
      user: { id: 'u1' },
      contexts: { browser: { name: 'Firefox' } },
      sdk: { name: 'sentry.javascript.browser', version: '8.0.0' },
      context: { cart: 3 },
      fingerprints: ['{{ default }}'],
      release: { version: 'web@1.2.0' },
      dist: '7',
      environment: 'production',
      metadata: {},
      packages: { react: '19.0.0' },
      previousEventID: 'b'.repeat(32),
      nextEventID: null,
      size: null,
      errors: [],
      crashFile: null,
      occurrence: null,
      _meta: {},
      userReport: null,
      sdkUpdates: [],
      resolvedWith: [],
    });
    expect(contractProblems(`GET ${PROJ}/events/{event_id}/`, 200, answer)).toEqual([]);
    expect(contractProblems(`GET ${ORG}/issues/{issue_id}/events/{event_id}/`, 200, answer)).toEqual([]);
  });

  it('gives a message event a message entry with its template and params, and neutral values for what the SDK left out', () => {
    const payload: NormalizedEvent = {
      event_id: 'c'.repeat(32),
      timestamp: 1,
      received: 1,
      level: 'info',
      platform: 'python',
      tags: [],
      message: 'disk 93% full',
      logentry: { message: 'disk %s full', formatted: 'disk 93% full', params: ['93%'] },
      sdk: {},
    };
    const answer = serializeEvent(row(payload), bareProject);
    expect(answer).toMatchObject({
      type: 'default',
      culprit: null,
      location: null,
      entries: [{ type: 'message', data: { formatted: 'disk 93% full', message: 'disk %s full', params: ['93%'] } }],
      user: null,
      contexts: {},
      sdk: { name: null, version: null },
      context: {},
      fingerprints: [],
      release: null,
      dist: null,
      environment: null,
      packages: {},
      previousEventID: null,
      nextEventID: null,
    });
    expect(contractProblems(`GET ${PROJ}/events/{event_id}/`, 200, answer)).toEqual([]);
  });

  it('gives a plain message its own text as template and no params; no SDK, no sdk', () => {
    const payload: NormalizedEvent = { event_id: 'd'.repeat(32), timestamp: 1, received: 1, level: 'info', platform: 'other', tags: [], message: 'hello' };
    expect(serializeEvent(row(payload), project)).toMatchObject({
      entries: [{ type: 'message', data: { formatted: 'hello', message: 'hello', params: [] } }],
      sdk: null,
    });
  });

  it('gives an exception without a stack trace no system frames', () => {
    const payload: NormalizedEvent = { ...exceptionEvent, exception: { values: [{ type: 'Error', value: 'no trace' }] }, threads: undefined, breadcrumbs: undefined, request: undefined };
    expect(serializeEvent(row(payload), project).entries).toEqual([{ type: 'exception', data: { values: [{ type: 'Error', value: 'no trace' }], hasSystemFrames: false, excOmitted: null } }]);
  });

  it('counts only real frames for the full-stack-trace toggle, across exceptions with and without stack traces', () => {
    const payload: NormalizedEvent = { ...exceptionEvent, exception: { values: [{ type: 'Error' }, { type: 'Error', stacktrace: { frames: [{ filename: 'node_modules/x/index.js', function: 'f', in_app: false }] } }] } };
    expect(serializeEvent(row(payload), project).entries[0]).toMatchObject({ type: 'exception', data: { hasSystemFrames: false } });
  });

  it('gives an exception with a message only the exception entry', () => {
    const payload: NormalizedEvent = { ...exceptionEvent, message: 'also a message', threads: undefined, breadcrumbs: undefined, request: undefined };
    expect(serializeEvent(row(payload), project).entries.map((entry) => entry.type)).toEqual(['exception']);
  });

  it('lists events in Sentry’s simple shape, or the full one with event.type', () => {
    const simple = serializeSimpleEvent(row(exceptionEvent), project);
    expect(simple).toEqual({
      id: 'a'.repeat(32),
      'event.type': 'error',
      groupID: '1001',
      eventID: 'a'.repeat(32),
      projectID: '42',
      message: 'x is undefined',
      title: 'TypeError: x is undefined',
      location: 'src/app.js',
      culprit: 'render(src/app.js)',
      user: { id: 'u1' },
      tags: [{ key: 'level', value: 'error' }],
      platform: 'javascript',
      dateCreated: '2026-03-01T00:00:00.000Z',
      crashFile: null,
      metadata: {},
    });
    const message: NormalizedEvent = { event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'info', platform: 'other', tags: [], message: 'hi' };
    expect(serializeSimpleEvent(row(message), project)).toMatchObject({ 'event.type': 'default', culprit: null, location: null, user: null });
    expect(contractProblems(`GET ${PROJ}/events/`, 200, [simple])).toEqual([]);
    expect(contractProblems(`GET ${ORG}/issues/{issue_id}/events/`, 200, [simple])).toEqual([]);

    const full = serializeListedEvent(row(exceptionEvent), project);
    expect(full).toEqual({ 'event.type': 'error', ...serializeEvent(row(exceptionEvent), project) });
    expect(serializeListedEvent(row(message), project)['event.type']).toBe('default');
  });
});

describe('organizations, projects, teams', () => {
  it('gives the organization its slug as id and the public origin as its URLs', () => {
    const answer = serializeOrganization({ slug: 'acme', name: 'Acme Inc', created_at: at('2025-12-31T00:00:00.000Z') }, PUBLIC_URL);
    expect(answer).toEqual({
      id: 'acme',
      slug: 'acme',
      name: 'Acme Inc',
      dateCreated: '2025-12-31T00:00:00.000Z',
      isEarlyAdopter: false,
      require2FA: false,
      avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
      status: { id: 'active', name: 'active' },
      features: [],
      links: { organizationUrl: PUBLIC_URL, regionUrl: PUBLIC_URL },
      hasAuthProvider: false,
      allowMemberInvite: false,
      allowMemberProjectCreation: false,
      allowSuperuserAccess: false,
    });
    expect(contractProblems('GET /api/0/organizations/', 200, [answer])).toEqual([]);
  });

  it('lists a project with its team, platform, retention and allowed domains', () => {
    const answer = serializeProject(project);
    expect(answer).toMatchObject({
      id: '42',
      slug: 'web',
      name: 'Web shop',
      platform: 'javascript',
      dateCreated: '2026-01-02T03:04:05.000Z',
      isBookmarked: false,
      isMember: true,
      hasAccess: true,
      access: [],
      features: [],
      firstEvent: '2026-02-01T10:00:00.000Z',
      firstTransactionEvent: false,
      status: 'active',
      team: { id: '3', slug: 'frontend', name: 'Frontend' },
      teams: [{ id: '3', slug: 'frontend', name: 'Frontend' }],
      platforms: ['javascript'],
      environments: [],
      latestRelease: null,
      latestDeploys: null,
      organization: { id: 'acme', slug: 'acme', name: 'Acme Inc' },
      retentionDays: 30,
      allowedDomains: ['https://shop.example.com'],
      hasReplays: false,
      hasSessions: false,
      hasUserReports: false,
    });
    expect(contractProblems(`GET ${ORG}/projects/`, 200, [answer])).toEqual([]);
  });

  it('lists a project without team, platform or events with nulls and the default allowed domains', () => {
    expect(serializeProject(bareProject)).toMatchObject({ platform: null, team: null, teams: [], platforms: [], firstEvent: null, retentionDays: null, allowedDomains: ['*'] });
  });

  it('details a project with its whole organization, and a team only when it has one', () => {
    const answer = serializeProjectDetail(project, PUBLIC_URL);
    // The settings Trapline does not have read as off and empty: a client must not believe data
    // scrubbing, IP scrubbing, SSL verification or source scraping is on.
    const { organization: _listedOrganization, ...listed } = serializeProject(project);
    expect(answer).toEqual({
      ...listed,
      team: { id: '3', slug: 'frontend', name: 'Frontend' },
      organization: serializeOrganization({ slug: 'acme', name: 'Acme Inc', created_at: at('2025-12-31T00:00:00.000Z') }, PUBLIC_URL),
      isInternal: false,
      isPublic: false,
      avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
      color: '',
      options: {},
      digestsMinDelay: 0,
      digestsMaxDelay: 0,
      subjectPrefix: '',
      resolveAge: 0,
      dataScrubber: false,
      dataScrubberDefaults: false,
      safeFields: [],
      storeCrashReports: null,
      sensitiveFields: [],
      subjectTemplate: '',
      securityToken: '',
      securityTokenHeader: null,
      verifySSL: false,
      scrubIPAddresses: false,
      scrapeJavaScript: false,
      enableAutoReleaseCreation: false,
      highlightTags: [],
      highlightContext: {},
      highlightPreset: { tags: [], context: {} },
      groupingConfig: '',
      derivedGroupingEnhancements: '',
      groupingEnhancements: '',
      secondaryGroupingExpiry: 0,
      secondaryGroupingConfig: null,
      fingerprintingRules: '',
      processingIssues: 0,
      defaultEnvironment: null,
      relayPiiConfig: null,
      builtinSymbolSources: [],
      dynamicSamplingBiases: null,
      symbolSources: '',
      isDynamicallySampled: false,
      tempestFetchScreenshots: false,
      autofixAutomationTuning: '',
      seerScannerAutomation: false,
      seerNightshiftTweaks: {},
      scmSourceContextEnabled: false,
      debugFilesRole: null,
    });
    expect(contractProblems(`GET ${PROJ}/`, 200, answer)).toEqual([]);
    const bare = serializeProjectDetail(bareProject, PUBLIC_URL);
    expect('team' in bare).toBe(false);
    expect(contractProblems(`GET ${PROJ}/`, 200, bare)).toEqual([]);
  });

  it('gives a team Sentry’s shape: no members, not the viewer’s', () => {
    const answer = serializeTeam(TEAM_ROW);
    expect(answer).toEqual({
      id: '3',
      slug: 'frontend',
      name: 'Frontend',
      dateCreated: '2026-01-01T00:00:00.000Z',
      isMember: false,
      teamRole: null,
      flags: { 'idp:provisioned': false },
      access: [],
      hasAccess: true,
      isPending: false,
      memberCount: 0,
      avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
    });
    expect(contractProblems(`GET ${ORG}/teams/`, 200, [answer])).toEqual([]);
  });

  it('counts a team’s accepted members and says whether the viewer is on it, with the viewer’s team role', () => {
    const answer = serializeTeam({ ...TEAM_ROW, member_count: 2, is_member: true, team_role: 'admin' });
    expect(answer).toMatchObject({ isMember: true, teamRole: 'admin', memberCount: 2 });
    expect(serializeTeam({ ...TEAM_ROW, member_count: 1, is_member: false, team_role: null })).toMatchObject({ isMember: false, teamRole: null, memberCount: 1 });
    expect(contractProblems(`GET ${ORG}/teams/`, 200, [answer])).toEqual([]);
  });
});

describe('tags', () => {
  it('names the promoted keys as Sentry does and keeps the others as they are', () => {
    const value = { key: 'level', value: 'error', count: 4, first_seen: at('2026-03-01T00:00:00.000Z'), last_seen: at('2026-03-02T00:00:00.000Z') };
    const answer = serializeTags([
      { key: 'level', total_values: 4, unique_values: 1, top_values: [value] },
      { key: 'server_name', total_values: 1, unique_values: 1, top_values: [] },
      { key: 'browser', total_values: 2, unique_values: 2, top_values: [] },
    ]);
    expect(answer).toEqual([
      { key: 'level', name: 'Level', totalValues: 4, uniqueValues: 1, topValues: [{ key: 'level', name: 'error', value: 'error', count: 4, firstSeen: '2026-03-01T00:00:00.000Z', lastSeen: '2026-03-02T00:00:00.000Z' }] },
      { key: 'server_name', name: 'Server', totalValues: 1, uniqueValues: 1, topValues: [] },
      { key: 'browser', name: 'browser', totalValues: 2, uniqueValues: 2, topValues: [] },
    ]);
    expect(serializeTags(['release', 'environment', 'user', 'transaction'].map((key) => ({ key, total_values: 0, unique_values: 0, top_values: [] }))).map((tag) => tag.name)).toEqual(['Release', 'Environment', 'User', 'Transaction']);
    expect(contractProblems(`GET ${ORG}/issues/{issue_id}/tags/{key}/`, 200, { ...answer[0], totalValues: 4 })).toEqual([]);
  });
});

describe('DSN keys', () => {
  const key = KEY_ROW;
  const pub = 'a'.repeat(32);
  const sec = 'b'.repeat(32);

  it('gives the DSNs an SDK is configured with, on the public origin', () => {
    const answer = serializeKey(key, PUBLIC_URL);
    expect(answer).toEqual({
      id: pub,
      name: 'Default',
      label: 'Default',
      public: pub,
      secret: sec,
      projectId: 42,
      isActive: true,
      dateCreated: '2026-01-02T00:00:00.000Z',
      rateLimit: null,
      dsn: {
        public: `https://${pub}@errors.example.com/42`,
        secret: `https://${pub}:${sec}@errors.example.com/42`,
        csp: `https://errors.example.com/api/42/csp-report/?sentry_key=${pub}`,
        security: `https://errors.example.com/api/42/security/?sentry_key=${pub}`,
        minidump: `https://errors.example.com/api/42/minidump/?sentry_key=${pub}`,
        unreal: `https://errors.example.com/api/42/unreal/${pub}/`,
        cdn: '',
        nel: '',
        crons: '',
        playstation: '',
        integration: '',
        otlp_traces: '',
        otlp_logs: '',
      },
      browserSdkVersion: '',
      browserSdk: { choices: [] },
      dynamicSdkLoaderOptions: { hasReplay: false, hasPerformance: false, hasDebug: false, hasFeedback: false, hasLogsAndMetrics: false },
    });
    expect(contractProblems(`GET ${PROJ}/keys/`, 200, [answer])).toEqual([]);
  });

  it('keeps a path prefix and port of the public URL in the DSN, without its trailing slash', () => {
    const answer = serializeKey(key, 'http://localhost:9000/trapline/');
    expect(answer.dsn).toMatchObject({
      public: `http://${pub}@localhost:9000/trapline/42`,
      secret: `http://${pub}:${sec}@localhost:9000/trapline/42`,
      csp: `http://localhost:9000/api/42/csp-report/?sentry_key=${pub}`,
    });
  });

  it('gives a key’s own rate limit only when both its count and window are set', () => {
    expect(serializeKey({ ...key, rate_limit_count: 100, rate_limit_window: 60 }, PUBLIC_URL).rateLimit).toEqual({ count: 100, window: 60 });
    expect(serializeKey({ ...key, rate_limit_count: 100, rate_limit_window: null }, PUBLIC_URL).rateLimit).toBeNull();
    expect(serializeKey({ ...key, rate_limit_count: null, rate_limit_window: 60 }, PUBLIC_URL).rateLimit).toBeNull();
    expect(serializeKey({ ...key, active: false }, PUBLIC_URL).isActive).toBe(false);
  });

  it('makes a new key active, with 32 random hex digits public and secret', () => {
    const first = newProjectKey(42, 'CI', 1_767_225_600_000);
    const second = newProjectKey(42, 'CI', 1_767_225_600_000);
    expect(first).toEqual({ publicKey: expect.stringMatching(/^[0-9a-f]{32}$/), secretKey: expect.stringMatching(/^[0-9a-f]{32}$/), projectId: 42, label: 'CI', active: true, createdAt: 1_767_225_600_000 });
    expect(first.publicKey).not.toBe(first.secretKey);
    expect(first.publicKey).not.toBe(second.publicKey);
  });

  it('turns a key row into its admin record and back', () => {
    const limited: KeyRow = { ...key, rate_limit_count: 100, rate_limit_window: 60 };
    expect(keyRecord(limited)).toEqual({ publicKey: pub, secretKey: sec, projectId: 42, label: 'Default', active: true, createdAt: Date.parse('2026-01-02T00:00:00.000Z'), rateLimit: { count: 100, window: 60 } });
    expect(keyRecord(key).rateLimit).toBeNull();
    expect(keyRecord({ ...key, rate_limit_count: 100 }).rateLimit).toBeNull();
    expect(keyRecord({ ...key, rate_limit_window: 60 }).rateLimit).toBeNull();
    expect(keyRow(keyRecord(limited))).toEqual(limited);
    expect(keyRow(keyRecord(key))).toEqual(key);
    expect(keyRow({ ...keyRecord(key), rateLimit: undefined })).toEqual(key);
  });

  it('turns a project row into its admin record', () => {
    expect(projectRecord(project)).toEqual({ projectId: 42, organizationSlug: 'acme', slug: 'web', name: 'Web shop', platform: 'javascript', createdAt: Date.parse('2026-01-02T03:04:05.000Z') });
  });
});

// The response schemas fastify serializes every answer through: a field of the wrong type is a
// 500, never a wrong answer, and the served OpenAPI document describes the answers with them.
// Every field a serializer sends is typed there: set to a value of no JSON type, it is refused,
// except inside the parts the schemas keep open (free-form records: metadata, contexts, …).
describe('response schemas', () => {
  const key: KeyRow = { ...KEY_ROW, rate_limit_count: 100, rate_limit_window: 60 };
  const team = TEAM_ROW;
  const tagValue = { key: 'level', value: 'error', count: 4, first_seen: at('2026-03-01T00:00:00.000Z'), last_seen: at('2026-03-02T00:00:00.000Z') };
  const actor = { id: 'token:0123456789ab', name: 'API token 0123456789ab', type: 'token' };
  const auditEntry = { id: 't:requested', actor, event: 'issue.delete', ipAddress: '10.0.0.1', note: 'requested deletion of issue WEB-1', targetObject: 9, targetUser: { id: '1' }, data: { shortId: 'WEB-1' }, dateCreated: '2026-01-01T00:00:00.000Z', transactionId: 't' };
  const OPEN = new Set(['metadata', 'contexts', 'user', 'context', 'statusDetails', 'derivedData', 'flags', 'options', 'highlightContext', 'seerNightshiftTweaks', 'release', 'data', 'targetUser', 'healthy', 'stats', 'packages', 'latestDeploys', 'assignedTo', 'filtered', 'subscriptionDetails', 'occurrence', '_meta', 'userReport', 'lastCommit', 'activity', 'seenBy', 'participants', 'errors', 'sdkUpdates']);

  const samples: [string, z.ZodType, unknown][] = [
    ['organization', answers.organizationAnswer, serializeOrganization({ slug: 'acme', name: 'Acme', created_at: at('2026-01-01T00:00:00.000Z') }, PUBLIC_URL)],
    ['project', answers.projectAnswer, serializeProject(project)],
    ['project detail', answers.projectDetailAnswer, serializeProjectDetail(project, PUBLIC_URL)],
    ['key', answers.keyAnswer, { ...serializeKey(key, PUBLIC_URL), browserSdk: { choices: [['latest', 'latest']] } }],
    ['team', answers.teamAnswer, serializeTeam(team)],
    ['issue', answers.issueAnswer, { ...serializeIssue(group, project, PUBLIC_URL, { '24h': [[1, 2]] }), annotations: [{ displayName: 'JIRA-1', url: 'https://jira/1' }] }],
    ['issue detail', answers.issueDetailAnswer, { ...serializeIssueDetail(group, project, PUBLIC_URL), activity: [{ id: '1' }], seenBy: [{ id: '1' }], participants: [{ id: '1' }] }],
    ['simple event', answers.simpleEventAnswer, serializeSimpleEvent(row(exceptionEvent), project)],
    ['event', answers.eventAnswer, { ...serializeEvent(row(exceptionEvent), project), size: 10, errors: [{ type: 'x' }], sdkUpdates: [{ type: 'x' }], resolvedWith: ['x'], previousEventID: 'b'.repeat(32), nextEventID: 'c'.repeat(32) }],
    ['listed event', answers.listedEventAnswer, serializeListedEvent(row(exceptionEvent), project)],
    ['tag', answers.tagAnswer, serializeTags([{ key: 'level', total_values: 4, unique_values: 1, top_values: [tagValue] }])[0]],
    ['status', answers.statusAnswer, { isPublic: false, status: 'resolved', statusDetails: {} }],
    ['transaction', answers.transactionAnswer, { transactionId: 't' }],
    ['detail', answers.detailAnswer, { detail: 'not found' }],
    ['root', answers.rootAnswer, { version: '0', auth: { scopes: ['event:read'] }, user: { id: '1', name: 'Ada', username: 'ada', email: 'ada@example.com' } }],
    ['audit log', answers.auditLogAnswer, { rows: [auditEntry], options: ['issue.delete'] }],
    [
      'deletion',
      answers.deletionAnswer,
      { transactionId: 't', kind: 'group', status: 'done', projectId: '42', projectSlug: 'web', issueId: '9', eventId: null, actor, dateRequested: '2026-01-01T00:00:00.000Z', dateCompleted: null, attempts: 1, lastError: null, progress: { chunks: 1, eventsRemoved: 2, rowsRemoved: 3 }, audit: [auditEntry] },
    ],
    ['system health', answers.systemHealthAnswer, { healthy: { projector: true }, problems: [{ id: 'p', message: 'm', severity: 'warning', url: null }] }],
  ];

  it.each(samples)('the %s answer takes what its serializer sends', (_name, schema, sample) => {
    expect(schema.safeParse(sample).error?.issues ?? []).toEqual([]);
  });

  it.each(samples)('the %s answer types every field it is sent', (_name, schema, sample) => {
    expect(untypedFields(schema, sample, OPEN, (path) => path.includes('entries'))).toEqual([]);
  });

  it.each([
    ['an issue', answers.issueAnswer, (status: string) => ({ ...serializeIssue(group, project, PUBLIC_URL), status }), ['resolved', 'unresolved', 'ignored', 'pending_deletion']],
    ['an error or a message', answers.issueAnswer, (type: string) => ({ ...serializeIssue(group, project, PUBLIC_URL), type }), ['error', 'default']],
    ['an event', answers.eventAnswer, (type: string) => ({ ...serializeEvent(row(exceptionEvent), project), type }), ['error', 'default']],
    ['a deletion', answers.deletionAnswer, (kind: string) => ({ ...samples.find(([name]) => name === 'deletion')![2] as object, kind }), ['group', 'event']],
    ['an audit actor', answers.auditLogAnswer, (type: string) => ({ rows: [{ ...auditEntry, actor: { ...actor, type } }], options: [] }), ['token', 'user', 'system', 'unknown']],
    ['a health problem', answers.systemHealthAnswer, (severity: string) => ({ healthy: {}, problems: [{ id: 'p', message: 'm', severity, url: null }] }), ['critical', 'warning']],
  ] as const)('takes each value %s can have and no other', (_case, schema, make, values) => {
    for (const value of values) expect(schema.safeParse(make(value)).success, value).toBe(true);
    expect(schema.safeParse(make('other')).success).toBe(false);
  });

  it('takes an event list of simple or full events, and the audit log’s numeric or text targets', () => {
    expect(answers.eventListAnswer.safeParse([serializeSimpleEvent(row(exceptionEvent), project), serializeListedEvent(row(exceptionEvent), project)]).success).toBe(true);
    expect(answers.eventListAnswer.safeParse([{ id: 1 }]).success).toBe(false);
    for (const targetObject of [9, 'abc', null]) expect(answers.auditLogAnswer.safeParse({ rows: [{ ...auditEntry, targetObject }], options: [] }).success).toBe(true);
    expect(answers.empty.safeParse(null).success).toBe(true);
    expect(answers.empty.safeParse({}).success).toBe(false);
    expect(answers.refusals['4xx']).toBe(answers.detailAnswer);
  });
});
