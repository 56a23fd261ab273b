import crypto from 'node:crypto';
import { secretMatches } from '@banyan/auth';

describe('secretMatches: one constant-time comparison for every shared secret', () => {
  afterEach(() => jest.restoreAllMocks());

  test('When the presented secret is the expected one, then it matches', () => {
    expect(secretMatches('s3cret-token', 's3cret-token')).toBe(true);
  });

  test.each([
    ['another secret of the same length', 's3cret-tokeN'],
    ['a prefix of it', 's3cret'],
    ['it with more after it', 's3cret-token-and-more'],
    ['nothing', undefined],
    ['an empty string', ''],
  ])('When the presented secret is %s, then it does not match', (_what, presented) => {
    expect(secretMatches(presented, 's3cret-token')).toBe(false);
  });

  test('When no secret is configured (undefined or empty), then nothing matches, not even an empty one', () => {
    expect(secretMatches('', '')).toBe(false);
    expect(secretMatches(undefined, undefined)).toBe(false);
    expect(secretMatches('anything', undefined)).toBe(false);
  });

  test('When the lengths differ, then the comparison still runs in constant time over two equal-length digests, so the length is not revealed', () => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');

    for (const presented of ['x', 's3cret-token', 'a much longer guess than the real secret is']) secretMatches(presented, 's3cret-token');

    expect(compare).toHaveBeenCalledTimes(3);
    for (const [a, b] of compare.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});
