import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { createTokenVerifier } from '@banyan/auth';
import { loadSyncSpec, verify } from '@banyan/sync';
import { eventually } from '@banyan/testing';
import { accountRow, startUsersPair, type UsersPair } from './support/pair';

// Both sides with their relays and sync consumers on RabbitMQ, one key store, and an account
// limit of 3 failures so the throttle's shared count can be seen.
let pair: UsersPair;
beforeAll(async () => {
  pair = await startUsersPair('usync', { settings: { loginFailuresPerAccount: 3 } });
}, 30_000);
afterAll(() => pair?.close());

const PASSWORD = 'correct horse battery staple';
const email = () => `sync-${randomUUID()}@example.com`;
const jwksOf = (baseUrl: string) => `${baseUrl}/api/users/.well-known/jwks.json`;
const synced = <T>(probe: () => Promise<T>, what: string) => eventually(probe, { timeoutMs: 10_000, what });

describe('Two-way sync of accounts between the monolith and the users service', () => {
  test('When someone registers on the monolith, then the account reaches the service with its hash, and a token from either side reads /me on the other', async () => {
    const address = email();
    const created = await pair.mono.api.post('/api/users', { email: address, password: PASSWORD, name: 'Mono Born' });
    expect(created.status).toBe(201);

    const copy = await synced(async () => {
      const row = await accountRow(pair.service.db.knex, address);
      expect(row).toBeDefined();
      return row;
    }, 'the account on the service');
    expect(copy).toEqual(await accountRow(pair.mono.db.knex, address));

    const monoToken = (await pair.mono.api.post('/api/users/login', { email: address, password: PASSWORD })).body.token as string;
    const serviceLogin = await pair.service.api.post('/api/users/login', { email: address, password: PASSWORD });
    expect(serviceLogin.status).toBe(200);
    const serviceToken = serviceLogin.body.token as string;
    for (const [api, token] of [
      [pair.service.api, monoToken],
      [pair.mono.api, serviceToken],
    ] as const) {
      const me = await api.get('/api/users/me', token);
      expect({ status: me.status, id: me.body.id }).toEqual({ status: 200, id: created.body.id });
    }
  });

  test('When someone registers and changes name and password at the service, then the monolith has both: the new password logs in there and the old one does not', async () => {
    const address = email();
    const created = await pair.service.api.post('/api/users', { email: address, password: PASSWORD, name: 'Service Born' });
    const { token } = (await pair.service.api.post('/api/users/login', { email: address, password: PASSWORD })).body;
    const changed = await pair.service.api.patch('/api/users/me', { name: 'Renamed at the service', password: 'a brand new password' }, token);
    expect(changed.status).toBe(200);

    await synced(async () => expect(await accountRow(pair.mono.db.knex, address)).toEqual(await accountRow(pair.service.db.knex, address)), 'the change on the monolith');
    const monoLogin = await pair.mono.api.post('/api/users/login', { email: address, password: 'a brand new password' });
    expect({ status: monoLogin.status, user: monoLogin.body.user }).toEqual({ status: 200, user: { ...created.body, name: 'Renamed at the service' } });
    expect((await pair.mono.api.post('/api/users/login', { email: address, password: PASSWORD })).body.code).toBe('USERS.INVALID_CREDENTIALS');
  });

  test('When the monolith renames an account the service copied, then the service has the new name (and an older event changes nothing)', async () => {
    const signed = await pair.mono.signUp({ email: email() });
    await synced(async () => expect(await accountRow(pair.service.db.knex, signed.user.email)).toBeDefined(), 'the copy');
    await pair.mono.api.patch('/api/users/me', { name: 'Renamed on the monolith' }, signed.token);

    await synced(async () => expect((await accountRow(pair.service.db.knex, signed.user.email))?.name).toBe('Renamed on the monolith'), 'the rename on the service');
    const service = await accountRow(pair.service.db.knex, signed.user.email);
    expect(service).toEqual(await accountRow(pair.mono.db.knex, signed.user.email));
  });

  test('When an account fails logins on the monolith, then the service counts on from there (one count across a switch) and a success on either side forgets it', async () => {
    const signed = await pair.mono.signUp({ email: email() });
    await synced(async () => expect(await accountRow(pair.service.db.knex, signed.user.email)).toBeDefined(), 'the copy');
    for (let i = 0; i < 3; i++) {
      expect((await pair.mono.api.post('/api/users/login', { email: signed.user.email, password: 'wrong' })).status).toBe(401);
    }
    // The fourth attempt, at the other side, is over the limit of 3: even the right password.
    const refused = await pair.service.api.post('/api/users/login', { email: signed.user.email, password: signed.password });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 429, code: 'USERS.TOO_MANY_ATTEMPTS' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    // A success forgets the count for both sides: two failures at the service, one success at
    // the monolith (after the window is cleared for the test), two more failures are still allowed.
    const other = await pair.service.api.post('/api/users', { email: email(), password: PASSWORD, name: 'Counted' });
    for (let i = 0; i < 2; i++) await pair.service.api.post('/api/users/login', { email: other.body.email, password: 'wrong' });
    await synced(async () => expect(await accountRow(pair.mono.db.knex, other.body.email)).toBeDefined(), 'the copy');
    expect((await pair.mono.api.post('/api/users/login', { email: other.body.email, password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await pair.service.api.post('/api/users/login', { email: other.body.email, password: 'wrong' })).status).toBe(401);
  });

  test('When the signing key is rotated, then both sides publish the same set at every step, and tokens signed by either side verify through either JWKS, as every other domain reads it', async () => {
    const signed = await pair.service.api.post('/api/users', { email: email(), password: PASSWORD, name: 'Key Holder' });
    const login = (side: UsersPair['service']['api']) => side.post('/api/users/login', { email: signed.body.email, password: PASSWORD }).then((r) => r.body.token as string);
    const sameSet = async () => {
      const [a, b] = await Promise.all([pair.mono.api.get('/api/users/.well-known/jwks.json'), pair.service.api.get('/api/users/.well-known/jwks.json')]);
      expect(b.body).toEqual(a.body);
      return (a.body.keys as Array<{ kid: string }>).map((k) => k.kid);
    };
    // The verifiers other domains build: the JWKS over HTTP, from either side (the gateway routes it to one).
    const verifiers = [createTokenVerifier({ jwksUrl: jwksOf(pair.mono.served.url) }), createTokenVerifier({ jwksUrl: jwksOf(pair.service.served.url) })];
    const verifiesEverywhere = async (token: string) => {
      for (const v of verifiers) expect((await v.verify(token)).userId).toBe(signed.body.id);
      expect((await pair.mono.api.get('/api/users/me', token)).status).toBe(200);
    };
    await synced(async () => expect(await accountRow(pair.mono.db.knex, signed.body.email)).toBeDefined(), 'the copy');

    const before = await sameSet();
    const oldToken = await login(pair.service.api);
    await verifiesEverywhere(oldToken);

    // Announced for longer than a JWKS-over-HTTP verifier waits before it reads the set again for
    // an unknown kid (jose's 5 s cooldown; its cache is 10 minutes, the production announcement 2 days).
    const next = await pair.mono.monolith.modules.users.api.rotateSigningKey(6_000);
    const during = await sameSet();
    expect(during).toEqual([...before, next.kid]);
    // Announced, not signing yet, on either side.
    expect(decodeProtectedHeader(await login(pair.service.api)).kid).not.toBe(next.kid);
    expect(decodeProtectedHeader(await login(pair.mono.api)).kid).not.toBe(next.kid);

    await new Promise((r) => setTimeout(r, 6_200));
    const monoToken = await login(pair.mono.api);
    expect(decodeProtectedHeader(monoToken).kid).toBe(next.kid);
    await verifiesEverywhere(monoToken);
    // The token signed before the rotation still verifies: its key stays published until it expires.
    await verifiesEverywhere(oldToken);
    expect(await sameSet()).toEqual(during);
    await verifiesEverywhere(await login(pair.service.api));
  }, 30_000);

  test('When every change above has been applied, then verify finds the two sides identical', async () => {
    await synced(async () => expect((await verify(loadSyncSpec('users'), { source: pair.mono.db.knex, target: pair.service.db.knex })).differences).toEqual([]), 'verify clean');
  });
});
