import { decodeProtectedHeader } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { createTokenVerifier } from '@banyan/auth';
import { backfill, loadSyncSpec } from '@banyan/sync';
import { eventually } from '@banyan/testing';
import { startUsersPair, type UsersPair } from './support/pair';

// Tokens live 6 s and a successor is announced 3 s ahead (generous for a loaded machine: two logins
// must fit in it, and a token signed during it must outlive it), on both
// sides, which share one key store (ADR 0333). The service read its signing key before the
// monolith started the rotation, so it must read it again within the announcement (the rule of
// ADR 0333: in production 30 s against 2 days); here every 500 ms against 3 s. Without that it
// signs with the retired key after its time, which this test catches. No broker: the account is
// copied by a backfill.
const TTL_S = 6;
let pair: UsersPair;
let email: string;
const PASSWORD = 'correct horse battery staple';
beforeAll(async () => {
  pair = await startUsersPair('urotate', { broker: false, settings: { tokenTtlSeconds: TTL_S, announceMs: 3_000, rereadMs: 500 } });
  email = (await pair.mono.signUp({ password: PASSWORD })).user.email;
  await backfill(loadSyncSpec('users'), { source: pair.mono.db.knex, target: pair.service.db.knex });
}, 30_000);
afterAll(() => pair?.close());

const jwks = (side: UsersPair['service']['api']) => side.get('/api/users/.well-known/jwks.json').then((r) => r.body as JSONWebKeySet);
const kids = async () => {
  const [a, b] = await Promise.all([jwks(pair.mono.api), jwks(pair.service.api)]);
  expect(b).toEqual(a);
  return a.keys.map((k) => k.kid);
};
const login = (side: UsersPair['service']['api']) => side.post('/api/users/login', { email, password: PASSWORD }).then((r) => r.body.token as string);
const kidOf = (token: string) => decodeProtectedHeader(token).kid;

test('When the key is rotated with users served by either side, then both announce the successor before it signs, both sign with it after, and the retired key verifies its tokens on both sides until they expire, then is refused', async () => {
  // Other domains' view: the key set over HTTP from one side, read again on an unknown kid.
  const verifiers = [pair.mono.served.url, pair.service.served.url].map((base) =>
    createTokenVerifier({ getKey: async () => (await (await fetch(`${base}/api/users/.well-known/jwks.json`)).json()) as JSONWebKeySet }),
  );
  const acceptedEverywhere = async (token: string) => {
    for (const v of verifiers) await v.verify(token);
    expect((await pair.mono.api.get('/api/users/me', token)).status).toBe(200);
    expect((await pair.service.api.get('/api/users/me', token)).status).toBe(200);
  };

  const old = await login(pair.mono.api);
  const [current] = await kids();
  const next = await pair.mono.monolith.modules.users.api.rotateSigningKey(3_000);
  expect(await kids()).toEqual([current, next.kid]);
  // Announced, not signing: the service's first token still names the current key.
  const announcedToken = await login(pair.service.api);
  expect(kidOf(announcedToken)).toBe(current);
  await acceptedEverywhere(announcedToken);

  await new Promise((r) => setTimeout(r, Math.max(0, next.signsFrom.getTime() - Date.now()) + 200));
  const [fromService, fromMonolith] = [await login(pair.service.api), await login(pair.mono.api)];
  expect([kidOf(fromService), kidOf(fromMonolith)]).toEqual([next.kid, next.kid]);
  await acceptedEverywhere(fromService);
  await acceptedEverywhere(fromMonolith);
  // The retired key still verifies the last tokens it signed, on both sides.
  await acceptedEverywhere(announcedToken);

  // Once they have expired, the retired key leaves both key sets and its tokens are refused on both sides.
  await eventually(async () => expect(await kids()).toEqual([next.kid]), { timeoutMs: (TTL_S + 3) * 1000, intervalMs: 200, what: 'the retired key unpublished' });
  for (const token of [old, announcedToken]) {
    expect((await pair.service.api.get('/api/users/me', token)).status).toBe(401);
    expect((await pair.mono.api.get('/api/users/me', token)).status).toBe(401);
  }
  await acceptedEverywhere(await login(pair.service.api));
}, 30_000);
