import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '@trapline/schemas';
import { describeIssue, eventTags, issueId, shortIdNumber, userIdentity } from './issue.ts';

const base: NormalizedEvent = { event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [['browser', 'Firefox']] };

describe('issue identity', () => {
  it('derives the id from the project, the grouping hash and its generation only', () => {
    expect(issueId(1, 'h', 0)).toBe(issueId(1, 'h', 0));
    expect(issueId(1, 'h', 0)).not.toBe(issueId(2, 'h', 0));
    expect(issueId(1, 'h', 0)).not.toBe(issueId(1, 'g', 0));
    expect(issueId(1, 'h', 0)).not.toBe(issueId(1, 'h', 1));
    expect(Number.isSafeInteger(issueId(1, 'f'.repeat(32), 7))).toBe(true);
  });

  it.each([0, 1, 2 ** 52 - 1, 36 ** 6])('gives issue %i a short id of six base-36 digits', (id) => {
    expect(shortIdNumber(id).toString(36)).toMatch(/^[1-9a-z][0-9a-z]{5}$/);
    expect(shortIdNumber(id, 1)).not.toBe(shortIdNumber(id));
  });
});

describe('issue description', () => {
  it('titles an error by its type and first line of value, with the top in-app frame as culprit', () => {
    const facts = describeIssue({
      ...base,
      exception: { values: [{ type: 'TypeError', value: 'x is undefined\nmore', stacktrace: { frames: [{ function: 'Layer.handle', filename: 'node_modules/express/layer.js' }, { function: 'loadUser', filename: 'app/models/user.js' }] } }] },
    });
    expect(facts).toEqual({ title: 'TypeError: x is undefined', culprit: 'loadUser(app/models/user.js)', type: 'error', metadata: { type: 'TypeError', value: 'x is undefined\nmore', filename: 'app/models/user.js', function: 'loadUser' } });
  });

  it('titles a synthetic exception (a captured message wrapped by the SDK) by its value, without a type', () => {
    const facts = describeIssue({ ...base, message: 'user 42 not found', exception: { values: [{ value: 'user 42 not found', mechanism: { type: 'generic', synthetic: true }, stacktrace: { frames: [{ function: 'load', filename: 'app/user.js' }] } }] } });
    // Sentry gives a synthetic exception no culprit (src/sentry/culprit.py).
    expect(facts).toEqual({ title: 'user 42 not found', culprit: '', type: 'error', metadata: { value: 'user 42 not found' } });
  });

  it('titles a message event by its first line', () => {
    expect(describeIssue({ ...base, message: 'disk full\nat /dev/sda', logger: 'storage' })).toMatchObject({ title: 'disk full', culprit: '', type: 'default' });
    expect(describeIssue({ ...base, message: 'slow', request: { url: 'https://shop.example/cart' } })).toMatchObject({ culprit: 'https://shop.example/cart' });
  });

  it('keeps promoted tag values to 200 characters, never splitting a surrogate pair', () => {
    const long = eventTags({ ...base, user: { id: 'x'.repeat(300) } }).find(([key]) => key === 'user')![1];
    expect(long).toBe(`id:${'x'.repeat(197)}`);
    const emoji = eventTags({ ...base, transaction: `${'a'.repeat(199)}😀tail` }).find(([key]) => key === 'transaction')![1];
    expect(emoji).toBe('a'.repeat(199));
  });

  it('promotes level, release, environment and user to tags', () => {
    const tags = eventTags({ ...base, release: 'web@1', environment: 'prod', user: { id: 7 } });
    expect(tags).toEqual(expect.arrayContaining([['browser', 'Firefox'], ['level', 'error'], ['release', 'web@1'], ['environment', 'prod'], ['user', 'id:7']]));
    expect(userIdentity({ ...base, user: { email: 'a@b.io' } })).toBe('email:a@b.io');
  });
});
