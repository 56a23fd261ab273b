import { randomUUID } from 'node:crypto';
import { createTokenVerifier } from '@banyan/auth';
import { compareTargets, renderReport } from '@banyan/parity';
import { loadSyncSpec, verify } from '@banyan/sync';
import { eventually } from '@banyan/testing';
import { startGateway } from '../../../gateway/test/support/gateway';
import { userScenarios } from '../../../migration/parity/users';
import { startUsersPair, type UsersPair } from './support/pair';
import { shopParityAuth } from '../../../migration/parity/auth';

// Users switched monolith ↔ extracted five times through a real gateway while people keep
// registering and logging in: nothing refused, nothing lost, every token accepted everywhere.
let pair: UsersPair;
beforeAll(async () => {
  // 3 failed logins per account and window, on both sides, for the throttle's test below.
  pair = await startUsersPair('uswitch', { gateway: startGateway, settings: { loginFailuresPerAccount: 3 } });
}, 40_000);
afterAll(() => pair?.close());

const PASSWORD = 'correct horse battery staple';

interface Person {
  email: string;
  id: string;
  token: string;
}

describe('Switching users between the monolith and the service', () => {
  test('When users is switched five times while registrations and logins go on, then no valid login is refused, no account is lost, every token is accepted everywhere, and verify is clean', async () => {
    const gw = pair.gateway!;
    // What every other domain builds: the users JWKS through the gateway, wherever users is routed.
    const elsewhere = createTokenVerifier({ jwksUrl: `${gw.url}/api/users/.well-known/jwks.json` });
    const people: Person[] = [];
    const failures: string[] = [];

    const signUpThroughGateway = async (label: string) => {
      const email = `switch-${label}-${randomUUID()}@example.com`;
      const created = await gw.api.post('/api/users', { email, password: PASSWORD, name: label });
      if (created.status !== 201) return void failures.push(`register ${label}: ${created.status} ${created.text}`);
      const login = await gw.api.post('/api/users/login', { email, password: PASSWORD });
      if (login.status !== 200) return void failures.push(`login ${label}: ${login.status} ${login.text}`);
      people.push({ email, id: created.body.id, token: login.body.token });
    };

    // The first account, and its token, signed while users is on the monolith.
    await signUpThroughGateway('before');
    const first = people[0];

    let running = true;
    const traffic = (async () => {
      for (let n = 0; running; n++) {
        await signUpThroughGateway(`during-${n}`);
        // An earlier person logs in again, wherever users is now.
        const someone = people[n % people.length];
        const again = await gw.api.post('/api/users/login', { email: someone.email, password: PASSWORD });
        if (again.status !== 200) failures.push(`re-login ${someone.email}: ${again.status} ${again.text}`);
      }
    })();

    const modes = ['extracted', 'monolith', 'extracted', 'monolith', 'extracted'] as const;
    for (const [i, mode] of modes.entries()) {
      // At least one registration and login in every mode, however slow the machine's hashing.
      const served = people.length;
      await eventually(() => people.length, { timeoutMs: 15_000, until: (n) => n > served, what: `a registration before switch ${i + 1}` });
      await gw.route('users', mode);
      // The token from before the first switch still reads /me from whichever side serves it now.
      const me = await eventually(() => gw.api.get('/api/users/me', first.token), { timeoutMs: 5_000, until: (r) => r.status === 200, what: `/me after switch ${i + 1}` });
      expect(me.body.id).toBe(first.id);
      if (i === 2) {
        // A profile change made on the service…
        const renamed = await gw.api.patch('/api/users/me', { name: 'Renamed on the service' }, first.token);
        expect(renamed.status).toBe(200);
      }
    }
    const servedLast = people.length;
    await eventually(() => people.length, { timeoutMs: 15_000, until: (n) => n > servedLast, what: 'a registration after the last switch' });
    running = false;
    await traffic;
    await gw.route('users', 'monolith');

    expect(failures).toEqual([]);
    expect(people.length).toBeGreaterThan(modes.length + 1);
    // Both sides really served registrations: each wrote some to its own outbox.
    const registeredAt = async (knex: typeof pair.mono.db.knex) => Number((await knex('outbox.events').where({ type: 'user.registered' }).count<{ n: string }[]>('* as n'))[0].n);
    expect(await registeredAt(pair.service.db.knex)).toBeGreaterThan(0);
    expect(await registeredAt(pair.mono.db.knex)).toBeGreaterThan(1);
    // …is on the monolith after switching back.
    expect((await eventually(() => pair.mono.api.get('/api/users/me', first.token), { timeoutMs: 5_000, until: (r) => r.body?.name === 'Renamed on the service', what: 'the rename on the monolith' })).status).toBe(200);

    // Every account on both sides, and every token accepted by the gateway's JWKS, by both sides' /me and by another domain of the monolith.
    await eventually(async () => expect((await verify(loadSyncSpec('users'), { source: pair.mono.db.knex, target: pair.service.db.knex })).differences).toEqual([]), {
      timeoutMs: 10_000,
      what: 'verify clean',
    });
    for (const p of people) {
      expect((await elsewhere.verify(p.token)).userId).toBe(p.id);
      expect((await pair.mono.api.get('/api/users/me', p.token)).status).toBe(200);
      expect((await pair.service.api.get('/api/users/me', p.token)).status).toBe(200);
      expect((await gw.api.get('/api/orders', p.token)).status).toBe(200);
    }
  }, 90_000);

  test('When users is extracted, then the parity scenarios through the gateway answer as the monolith does', async () => {
    const gw = pair.gateway!;
    const registeredAtService = async () => Number((await pair.service.db.knex('outbox.events').where({ type: 'user.registered' }).count<{ n: string }[]>('* as n'))[0].n);
    const before = await registeredAtService();
    await gw.route('users', 'extracted');
    try {
      const { token } = await pair.mono.admin();
      const report = await compareTargets(
        userScenarios,
        { name: 'monolith', baseUrl: pair.mono.served.url, auth: shopParityAuth, adminToken: token },
        { name: 'gateway (extracted)', baseUrl: gw.url, auth: shopParityAuth, adminToken: token },
      );
      if (!report.identical) throw new Error(renderReport(report));
      expect(report.identical).toBe(true);
      // The gateway really sent them to the service: its outbox holds their registrations.
      expect(await registeredAtService()).toBeGreaterThan(before);
    } finally {
      await gw.route('users', 'monolith');
    }
  }, 30_000);

  test('When an account fails 3 logins through the gateway and users is switched, then the other side refuses the next one with 429, and so does the first side after switching back', async () => {
    const gw = pair.gateway!;
    const email = `switch-throttle-${randomUUID()}@example.com`;
    expect((await gw.api.post('/api/users', { email, password: PASSWORD, name: 'Guessed' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await gw.api.post('/api/users/login', { email, password: `guess ${i}` })).status).toBe(401);

    await gw.route('users', 'extracted');
    try {
      // Even the right password: the account's window is spent, whichever side counts.
      const atService = await gw.api.post('/api/users/login', { email, password: PASSWORD });
      expect({ status: atService.status, code: atService.body.code, route: atService.headers.get('x-banyan-route') }).toEqual({
        status: 429,
        code: 'USERS.TOO_MANY_ATTEMPTS',
        route: expect.stringMatching(/extracted/),
      });
      expect(Number(atService.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await gw.route('users', 'monolith');
    }
    const back = await gw.api.post('/api/users/login', { email, password: PASSWORD });
    expect({ status: back.status, route: back.headers.get('x-banyan-route') }).toEqual({ status: 429, route: expect.stringMatching(/monolith/) });
  }, 30_000);
});
