import { describe, expect, it } from 'vitest';
import { shortIdFor } from './serialize.ts';

describe('short ids', () => {
  it.each([
    ['web', 1, 'WEB-1'],
    ['web', 36, 'WEB-10'],
    ['api-gw', 1295, 'API-GW-ZZ'],
  ])('%s #%i is %s', (slug, counter, expected) => {
    expect(shortIdFor({ slug }, counter)).toBe(expected);
  });
});
