import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '@trapline/schemas';
import { describeIssue, eventTags, issueId, shortIdNumber, userIdentity } from './issue.ts';

// An issue's description, identity and tags, by exact output (found by mutation testing: the
// title, culprit and metadata rules each had cases no test pinned).

const event = (overrides: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [], ...overrides,
});
const synthetic = { type: 'x', synthetic: true };

describe('describeIssue', () => {
  it.each<[string, Partial<NormalizedEvent>, ReturnType<typeof describeIssue>]>([
    ['a synthetic exception by its value\'s first line, with no culprit (Sentry\'s culprit.py)', { message: 'msg', exception: { values: [{ type: 'Error', value: 'first\nsecond', mechanism: synthetic, stacktrace: { frames: [{ function: 'f', filename: 'a.js' }] } }] } },
      { title: 'first', culprit: '', type: 'error', metadata: { value: 'first\nsecond' } }],
    ['a synthetic exception without a value by the message', { message: 'the message\nmore', exception: { values: [{ mechanism: synthetic }] } },
      { title: 'the message', culprit: '', type: 'error', metadata: { value: 'the message' } }],
    ['an empty synthetic exception as unlabeled, the culprit its transaction', { exception: { values: [{ value: '', mechanism: synthetic }] }, transaction: 'GET /x' },
      { title: '<unlabeled event>', culprit: 'GET /x', type: 'error', metadata: { value: '' } }],
    ['a chain by its last exception, the culprit its last in-app frame', { exception: { values: [{ type: 'Cause', value: 'c' }, { type: 'TypeError', value: 'boom\nstack', stacktrace: { frames: [{ function: 'lib', filename: '/n/node_modules/l.js' }, { function: 'app', filename: '/srv/app.js', module: 'app.mod' }, { function: 'vendor', filename: '/x/node_modules/v.js' }] } }] } },
      { title: 'TypeError: boom', culprit: 'app(app.mod)', type: 'error', metadata: { type: 'TypeError', value: 'boom\nstack', filename: '/srv/app.js', function: 'app' } }],
    ['an exception without value or frames by its type', { exception: { values: [{ type: 'KeyError' }] }, logger: 'ignored' },
      { title: 'KeyError', culprit: '', type: 'error', metadata: { type: 'KeyError', value: '' } }],
    ['an exception whose only frame has neither module nor filename, with no culprit', { exception: { values: [{ value: 'v', stacktrace: { frames: [{ abs_path: '/x/node_modules/a.js' }] } }] } },
      { title: 'Error: v', culprit: '', type: 'error', metadata: { type: 'Error', value: 'v' } }],
    ['an exception with several library frames only, by the last of them', { exception: { values: [{ value: 'v', stacktrace: { frames: [{ function: 'a', filename: '/x/node_modules/a.js' }, { function: 'b', filename: '/x/node_modules/b.js' }, { function: 'c', filename: '/x/node_modules/c.js' }] } }] } },
      { title: 'Error: v', culprit: 'c(/x/node_modules/c.js)', type: 'error', metadata: { type: 'Error', value: 'v', filename: '/x/node_modules/c.js', function: 'c' } }],
    ['a frame with a function only (no place to name: no culprit)', { exception: { values: [{ type: 'E', value: 'v', stacktrace: { frames: [{ function: 'go' }] } }] } },
      { title: 'E: v', culprit: '', type: 'error', metadata: { type: 'E', value: 'v', function: 'go' } }],
    ['a message by its first line, the logger no culprit', { message: 'line one\nline two', logger: 'app.log' },
      { title: 'line one', culprit: '', type: 'default', metadata: { title: 'line one' } }],
    ['a message the transaction names', { message: 'm', logger: 'app.log', transaction: 'POST /pay' },
      { title: 'm', culprit: 'POST /pay', type: 'default', metadata: { title: 'm' } }],
    ['nothing at all as unlabeled', {}, { title: '<unlabeled event>', culprit: '', type: 'default', metadata: { title: '<unlabeled event>' } }],
  ])('titles %s', (_what, input, expected) => {
    expect(describeIssue(event(input))).toEqual(expected);
  });

  it('cuts titles at 1,024 characters', () => {
    expect(describeIssue(event({ message: 'x'.repeat(1100) })).title).toHaveLength(1024);
    expect(describeIssue(event({ message: 'x'.repeat(1100) })).metadata.title).toHaveLength(1024);
    expect(describeIssue(event({ exception: { values: [{ value: 'y'.repeat(1100), mechanism: synthetic }] } })).title).toHaveLength(1024);
  });
});

describe('userIdentity', () => {
  it.each<[NormalizedEvent['user'], string | undefined]>([
    [undefined, undefined],
    [{}, undefined],
    [{ id: 7, email: 'a@b' }, 'id:7'],
    [{ username: 'u', email: 'a@b' }, 'username:u'],
    [{ email: 'a@b', ip_address: '1.2.3.4' }, 'email:a@b'],
    [{ ip_address: '1.2.3.4' }, 'ip_address:1.2.3.4'],
    [{ id: true, username: 'u' } as never, 'username:u'],
    [{ id: { x: 1 } } as never, undefined],
  ])('%j → %s', (user, expected) => {
    expect(userIdentity(event(user === undefined ? {} : { user }))).toBe(expected);
  });
});

describe('eventTags', () => {
  it('adds the promoted fields to the SDK\'s tags, the event\'s level winning, by key', () => {
    expect(eventTags(event({ tags: [['zeta', 'z'], ['level', 'custom'], ['a', 'b'], ['Upper', 'u']], release: 'r1', environment: 'prod', server_name: 's', transaction: 't', user: { id: 1 } }))).toEqual([
      ['Upper', 'u'], ['a', 'b'], ['environment', 'prod'], ['level', 'error'], ['release', 'r1'], ['server_name', 's'], ['transaction', 't'], ['user', 'id:1'], ['zeta', 'z'],
    ]);
    expect(eventTags(event({ level: 'warning' }))).toEqual([['level', 'warning']]);
  });
});

describe('ids', () => {
  it('derives issue ids and short ids exactly as before (they are on every stored issue)', () => {
    expect([issueId(1, 'h', 0), issueId(1, 'h', 1), issueId(2, 'h', 0)]).toEqual([4218006366626111, 4392851296542573, 2000959747017480]);
    expect([shortIdNumber(0), shortIdNumber(0, 3), shortIdNumber(36 ** 6 - 36 ** 5), shortIdNumber(36 ** 6 - 36 ** 5 - 1)]).toEqual([36 ** 5, 36 ** 5 + 3, 36 ** 5, 36 ** 6 - 1]);
  });
});
