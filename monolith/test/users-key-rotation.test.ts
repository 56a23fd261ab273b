import { decodeProtectedHeader } from 'jose';
import { eventually } from '@banyan/testing';
import { monolithConfigSchema } from '../src/config';
import { startMonolith, type MonolithHarness } from './support/harness';

/**
 * Token signing keys rotate by announcement (ADR 0332), against a real monolith and database with
 * short times: tokens live 3 s, a successor is announced 1.5 s before it signs.
 */
const TTL_S = 3;
const ANNOUNCE_MS = 1_500;

let h: MonolithHarness;
let account: { email: string; password: string };
beforeAll(async () => {
  h = await startMonolith('users_keys', { env: { TOKEN_TTL_SECONDS: String(TTL_S), USERS_KEY_ANNOUNCE_MS: String(ANNOUNCE_MS) } });
  const { password, user } = await h.signUp();
  account = { email: user.email, password };
});
afterAll(() => h.close());

const kids = async () => ((await h.api.get('/api/users/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((k) => k.kid);
const login = async () => (await h.api.post('/api/users/login', account)).body.token as string;
const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const me = async (token: string) => (await h.api.get('/api/users/me', token)).status;

describe('Token signing key rotation', () => {
  test('When a key is rotated, then its successor is published before it signs, the old key keeps verifying its tokens until they expire, then leaves the key set', async () => {
    const before = await login();
    const [first] = await kids();
    expect(await kids()).toEqual([first]);
    expect(kidOf(before)).toBe(first);

    const next = await h.monolith.modules.users.api.rotateSigningKey();
    const announcedAt = Date.now();

    // Announced: published, not signing.
    expect(await kids()).toEqual([first, next.kid]);
    const during = await login();
    expect(kidOf(during)).toBe(first);
    expect(next.signsFrom.getTime()).toBeGreaterThan(announcedAt + ANNOUNCE_MS - 500);

    // Signing: new tokens name the successor and verify in the monolith's own verifier (which read
    // the key set before the successor existed); the retired key's tokens still verify.
    const after = await eventually(async () => {
      const token = await login();
      expect(kidOf(token)).toBe(next.kid);
      return token;
    }, { timeoutMs: 5_000 });
    expect(await me(after)).toBe(200);
    expect(await me(during)).toBe(200);
    expect(await kids()).toEqual([first, next.kid]);

    // Once the last token the old key signed has expired, the old key is no longer published.
    await eventually(async () => expect(await kids()).toEqual([next.kid]), { timeoutMs: (TTL_S + 3) * 1000, intervalMs: 200 });
    expect(await me(during)).toBe(401);
    // (`after` has expired by now too: it was signed when the old key retired.) A fresh login verifies.
    expect(await me(await login())).toBe(200);
  }, 20_000);

  test('When two rotations are asked at once, then one successor is announced', async () => {
    const [a, b] = await Promise.all([h.monolith.modules.users.api.rotateSigningKey(), h.monolith.modules.users.api.rotateSigningKey()]);
    expect(a.kid).toBe(b.kid);
    const published = await kids();
    expect(published.filter((kid) => kid === a.kid)).toHaveLength(1);
    expect(published).toHaveLength(2);
  });

  test('When USERS_KEY_ANNOUNCE_MS is not shorter than USERS_KEY_ROTATE_AFTER_MS, then the configuration is refused, naming it', () => {
    const parsed = monolithConfigSchema.safeParse({ ...process.env, USERS_KEY_ANNOUNCE_MS: '1000', USERS_KEY_ROTATE_AFTER_MS: '1000' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toContainEqual(['USERS_KEY_ANNOUNCE_MS', expect.stringMatching(/shorter than USERS_KEY_ROTATE_AFTER_MS/)]);
  });
});
