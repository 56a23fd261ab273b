import { randomUUID } from 'node:crypto';
import { createKnex } from '@banyan/db';
import { serve } from '@banyan/http';
import { createLogger } from '@banyan/telemetry';
import { testConnection } from '@banyan/testing';
import { compareTargets, renderReport } from '@banyan/parity';
import { envelopeFromRow } from '@banyan/outbox';
import { userScenarios } from '../../../migration/parity/users';
import { buildUsersService } from '../src/app';
import { startUsersPair, type UsersPair } from './support/pair';
import { shopParityAuth } from '../../../migration/parity/auth';

// The service answers the users contract like the module it replaces; no broker needed here.
let pair: UsersPair;
beforeAll(async () => {
  pair = await startUsersPair('usvc_contract', { broker: false });
}, 30_000);
afterAll(() => pair?.close());

const PASSWORD = 'correct horse battery staple';
const email = () => `svc-${randomUUID()}@example.com`;

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}

describe('The users service answers the contract', () => {
  test('When a visitor registers, logs in, reads and renames themselves at the service, then each answer has the contract shape', async () => {
    const api = pair.service.api;
    const address = email();
    const created = await api.post('/api/users', { email: address.toUpperCase(), password: PASSWORD, name: 'Ada' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: address, name: 'Ada', role: 'customer' });

    const login = await api.post('/api/users/login', { email: address, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ token: expect.any(String), user: created.body });

    const token = login.body.token as string;
    expect((await api.get('/api/users/me', token)).body).toEqual(created.body);
    const renamed = await api.patch('/api/users/me', { name: 'Ada L.' }, token);
    expect(renamed.body).toEqual({ ...created.body, name: 'Ada L.' });
  });

  test('When input is wrong, then the same codes as the module: 409 EMAIL_TAKEN, 401 INVALID_CREDENTIALS, 400 VALIDATION.FAILED, 401 without a token', async () => {
    const api = pair.service.api;
    const address = email();
    await api.post('/api/users', { email: address, password: PASSWORD, name: 'Bo' });

    expectProblem(await api.post('/api/users', { email: address, password: PASSWORD, name: 'Bo again' }), 409, 'USERS.EMAIL_TAKEN');
    expectProblem(await api.post('/api/users/login', { email: address, password: 'wrong password' }), 401, 'USERS.INVALID_CREDENTIALS');
    expectProblem(await api.post('/api/users', { email: 'not an email', password: 'short', name: '' }), 400, 'VALIDATION.FAILED');
    expect((await api.get('/api/users/me')).status).toBe(401);
  });

  test('When the service registers an account, then user.registered and user.account_changed (hash included) are in its own outbox with origin users-service, and the row carries the last one as its version', async () => {
    const created = await pair.service.api.post('/api/users', { email: email(), password: PASSWORD, name: 'Cy' });

    const rows = await pair.service.db.knex('outbox.events').where({ aggregate_id: created.body.id }).orderBy('sequence');
    const events = rows.map(envelopeFromRow);
    expect(events.map((e) => [e.type, e.origin, e.sequence])).toEqual([
      ['user.registered', 'users-service', 1],
      ['user.account_changed', 'users-service', 2],
    ]);
    // The hash-carrying event has an exchange of its own: nothing bound to the users exchange
    // (the event history stream binds every domain exchange) receives it.
    expect(rows.map((r: { exchange: string }) => r.exchange)).toEqual(['users', 'users-sync']);
    const row = await pair.service.db.knex('users.users').where({ id: created.body.id }).first();
    expect(events[1].data).toEqual({ userId: created.body.id, email: created.body.email, name: 'Cy', role: 'customer', passwordHash: row.password_hash });
    expect(Number(row.version)).toBe(2);
    // Nothing of the account reached the monolith's database: no broker here.
    expect(await pair.mono.db.knex('users.users').where({ id: created.body.id }).first()).toBeUndefined();
  });

  test('When the JWKS is read from either side, then it is the same key set (one key store)', async () => {
    const [mono, service] = await Promise.all([pair.mono.api.get('/api/users/.well-known/jwks.json'), pair.service.api.get('/api/users/.well-known/jwks.json')]);
    expect(service.status).toBe(200);
    expect(service.body.keys.length).toBeGreaterThan(0);
    expect(service.body).toEqual(mono.body);
    expect(JSON.stringify(service.body)).not.toMatch(/"d":/);
  });

  test('When the parity scenarios for users run against the monolith and the service, then the answers do not differ', async () => {
    const { token } = await pair.mono.admin();
    const report = await compareTargets(
      userScenarios,
      { name: 'monolith', baseUrl: pair.mono.served.url, auth: shopParityAuth, adminToken: token },
      { name: 'service', baseUrl: pair.service.served.url, auth: shopParityAuth, adminToken: token },
    );
    if (!report.identical) throw new Error(renderReport(report));
    expect(report.identical).toBe(true);
  }, 30_000);

  test('When the key store answers, then /readyz says so; when it does not exist, the service is not ready and says which check failed', async () => {
    const ready = await pair.service.api.get('/readyz');
    expect({ status: ready.status, checks: ready.body.checks }).toEqual({ status: 200, checks: { database: true, 'key store': true } });

    const missing = createKnex(testConnection(`banyan_test_no_key_store_${process.pid}`));
    const built = buildUsersService({
      knex: pair.service.db.knex,
      logger: createLogger('t', 'silent'),
      keyStore: missing,
      tokenTtlSeconds: 3600,
      rotateAfterMs: 90 * 86_400_000,
      announceMs: 2 * 86_400_000,
      throttle: { windowMs: 60_000, loginFailuresPerAccount: 10, loginAttemptsPerAddress: 100, registrationsPerAddress: 100 },
    });
    const served = await serve(built.app, 0);
    try {
      const res = await fetch(`${served.url}/readyz`);
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 503, body: { status: 'not ready', checks: { database: true, 'key store': false } } });
    } finally {
      await served.close(1000);
      await missing.destroy();
    }
  });
});
