/**
 * Login and registration throttling (ADR 0331): counted in PostgreSQL per
 * account (the normalised email) and per client address, checked before the password hash.
 *
 * Every request names its client address in X-Forwarded-For, as the gateway does: the monolith
 * trusts loopback as a proxy by default, so each test speaks from addresses of its own
 * (TEST-NET-2, 198.51.100.0/24) and address counters never mix between tests. Accounts are
 * arranged through the module's door (ensureUser), which no limit applies to.
 */
import crypto from 'node:crypto';
import { createKnex, type Knex } from '@banyan/db';
import { serve, type Served } from '@banyan/http';
import { createLogger } from '@banyan/telemetry';
import { http, type HttpResult } from '@banyan/testing';
import { buildMonolith, type Monolith } from '../src/app';
import { loadMonolithConfig, monolithConfigSchema } from '../src/config';
import { startMonolith, type MonolithHarness } from './support/harness';

const PASSWORD = 'correct horse battery staple';
const WRONG = 'not the password at all';
const LIMITS = {
  USERS_THROTTLE_WINDOW_MS: '60000',
  USERS_LOGIN_FAILURES_PER_ACCOUNT: '3',
  USERS_LOGIN_ATTEMPTS_PER_ADDRESS: '8',
  USERS_REGISTRATIONS_PER_ADDRESS: '3',
};

let h: MonolithHarness;
/** A second instance on h's database, as another process would be; it trusts no proxy on loopback. */
let second: { monolith: Monolith; served: Served; knex: Knex; api: ReturnType<typeof http> };

beforeAll(async () => {
  h = await startMonolith('users_throttle', { env: LIMITS });
  const config = { ...h.config, TRUST_PROXY: monolithConfigSchema.shape.TRUST_PROXY.parse('192.0.2.1') };
  const knex = createKnex(h.db.settings, { max: 4 });
  const monolith = buildMonolith({ config, knex, logger: createLogger('throttle-test', 'silent') });
  await monolith.start();
  const served = await serve(monolith.app, 0);
  second = { monolith, served, knex, api: http(served.url) };
});
afterAll(async () => {
  await second?.served.close(100);
  await second?.monolith.stop();
  await second?.knex.destroy();
  await h?.close();
});

let counter = 0;
const uniqueEmail = () => `throttled-${Date.now()}-${++counter}@example.com`;
const newAddress = () => `198.51.100.${++counter % 250}`;

const account = async () => {
  const email = uniqueEmail();
  await h.monolith.modules.users.api.ensureUser({ email, password: PASSWORD, name: 'Throttled', role: 'customer' });
  return email;
};

const logIn = (api: ReturnType<typeof http>, email: string, password: string, from: string) =>
  api.post('/api/users/login', { email, password }, undefined, { 'x-forwarded-for': from });

const register = (email: string, from: string) =>
  h.api.post('/api/users', { email, password: PASSWORD, name: 'Newcomer' }, undefined, { 'x-forwarded-for': from });

function expectThrottled(res: HttpResult, windowSeconds = 60) {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status: 429, code: 'USERS.TOO_MANY_ATTEMPTS' });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= windowSeconds).toBe(true);
  expect(res.body.retryAfter).toBe(retryAfter);
}

/** How many scrypt derivations `work` caused: each is 16 MiB and ~50 ms on libuv's pool. */
async function scryptCalls<T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const spy = jest.spyOn(crypto, 'scrypt');
  try {
    const result = await work();
    return { result, calls: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

describe('Login throttling per account', () => {
  test('When an account\'s password is wrong 3 times, then the next attempt answers 429 USERS.TOO_MANY_ATTEMPTS with Retry-After, even with the right password, and hashes nothing', async () => {
    const email = await account();
    const from = newAddress();

    const failures = [];
    for (let i = 0; i < 2; i++) failures.push((await logIn(h.api, email, WRONG, from)).status);
    const { result: third, calls: admittedCalls } = await scryptCalls(() => logIn(h.api, email, WRONG, from));
    const { result: throttled, calls } = await scryptCalls(() => logIn(h.api, email, PASSWORD, from));

    expect([...failures, third.status]).toEqual([401, 401, 401]);
    expect(admittedCalls).toBe(1);
    expectThrottled(throttled);
    expect(calls).toBe(0);
  });

  test('When the email has no account, then it is throttled after as many attempts, with the same answer as an existing account', async () => {
    const existing = await account();
    const unknown = uniqueEmail();
    const statuses = async (email: string) => {
      const from = newAddress();
      const seen: HttpResult[] = [];
      for (let i = 0; i < 4; i++) seen.push(await logIn(h.api, email, WRONG, from));
      return seen;
    };

    const [known, stranger] = [await statuses(existing), await statuses(unknown)];

    expect(stranger.map((r) => r.status)).toEqual(known.map((r) => r.status));
    expect(known.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    expectThrottled(stranger[3]);
    const { retryAfter: _a, ...knownBody } = known[3].body;
    const { retryAfter: _b, ...strangerBody } = stranger[3].body;
    expect(strangerBody).toEqual(knownBody);
  });

  test('When one account is throttled, then it stays throttled from any address, while another account logs in from another address', async () => {
    const [victim, bystander] = [await account(), await account()];
    const attacker = newAddress();
    for (let i = 0; i < 3; i++) await logIn(h.api, victim, WRONG, attacker);

    const victimElsewhere = await logIn(h.api, victim, PASSWORD, newAddress());
    const bystanderLogin = await logIn(h.api, bystander, PASSWORD, newAddress());

    expectThrottled(victimElsewhere);
    expect(bystanderLogin.status).toBe(200);
    expect(bystanderLogin.body.user.email).toBe(bystander);
  });

  test('When a login succeeds, then the account\'s earlier failures are forgotten', async () => {
    const email = await account();
    const from = newAddress();

    const before = [await logIn(h.api, email, WRONG, from), await logIn(h.api, email, WRONG, from)].map((r) => r.status);
    const success = await logIn(h.api, email, PASSWORD, from);
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await logIn(h.api, email, WRONG, from)).status);

    expect(before).toEqual([401, 401]);
    expect(success.status).toBe(200);
    expect(after).toEqual([401, 401, 401, 429]);
  });

  test('When the email is typed in another case with spaces, then it counts against the same account', async () => {
    const email = await account();
    const from = newAddress();

    for (const typed of [email, email.toUpperCase(), `  ${email} `]) await logIn(h.api, typed, WRONG, from);
    const res = await logIn(h.api, email, PASSWORD, from);

    expectThrottled(res);
  });
});

describe('Login throttling per client address', () => {
  test('When one address makes 8 attempts across accounts, then its next answers 429 without hashing, while another address logs in to the same account', async () => {
    const email = await account();
    const from = newAddress();

    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await logIn(h.api, uniqueEmail(), WRONG, from)).status);
    const { result: throttled, calls } = await scryptCalls(() => logIn(h.api, email, PASSWORD, from));
    const elsewhere = await logIn(h.api, email, PASSWORD, newAddress());

    expect(statuses).toEqual(Array(8).fill(401));
    expectThrottled(throttled);
    expect(calls).toBe(0);
    expect(elsewhere.status).toBe(200);
  });
});

describe('Registration throttling per client address', () => {
  test('When one address registers 3 accounts, then its 4th registration answers 429 with Retry-After and creates nothing, while another address registers', async () => {
    const from = newAddress();
    const eventsBefore = (await h.events('user.registered')).length;
    const emails = [uniqueEmail(), uniqueEmail(), uniqueEmail(), uniqueEmail()];

    const created = [];
    for (const email of emails.slice(0, 3)) created.push((await register(email, from)).status);
    const { result: throttled, calls } = await scryptCalls(() => register(emails[3], from));
    const elsewhere = await register(uniqueEmail(), newAddress());

    expect(created).toEqual([201, 201, 201]);
    expectThrottled(throttled);
    expect(calls).toBe(0);
    expect(await h.monolith.modules.users.api.findUserByEmail(emails[3])).toBeUndefined();
    expect((await h.events('user.registered')).length).toBe(eventsBefore + 4);
    expect(elsewhere.status).toBe(201);
  });

  test('When a registration is refused for its body, then it does not count against the address', async () => {
    const from = newAddress();

    for (let i = 0; i < 5; i++) await h.api.post('/api/users', { email: 'not an email', password: PASSWORD, name: 'X' }, undefined, { 'x-forwarded-for': from });
    const res = await register(uniqueEmail(), from);

    expect(res.status).toBe(201);
  });
});

describe('Several instances', () => {
  test('When attempts on one account are spread over two instances on one database, then they count together', async () => {
    const email = await account();

    const statuses = [
      (await logIn(h.api, email, WRONG, newAddress())).status,
      (await logIn(second.api, email, WRONG, newAddress())).status,
      (await logIn(h.api, email, WRONG, newAddress())).status,
    ];
    const onSecond = await logIn(second.api, email, PASSWORD, newAddress());
    const onFirst = await logIn(h.api, email, PASSWORD, newAddress());

    expect(statuses).toEqual([401, 401, 401]);
    expectThrottled(onSecond);
    expectThrottled(onFirst);
  });
});

describe('Client addresses', () => {
  test('When the direct client is not a trusted proxy, then its X-Forwarded-For is ignored: a new spoofed address per attempt still hits the limit', async () => {
    // The second instance trusts only 192.0.2.1, so this test's loopback connection is the client.
    const answers: number[] = [];
    for (let i = 0; i <= 8 && !answers.includes(429); i++) answers.push((await logIn(second.api, uniqueEmail(), WRONG, newAddress())).status);

    expect(answers).toContain(429);
  });

  test('When the client is a trusted proxy (loopback, by default), then the address it forwards is the one counted', async () => {
    const from = newAddress();
    for (let i = 0; i < 8; i++) await logIn(h.api, uniqueEmail(), WRONG, from);

    const sameClient = await logIn(h.api, uniqueEmail(), WRONG, `${newAddress()}, ${from}`);
    const otherClient = await logIn(h.api, uniqueEmail(), WRONG, `${from}, ${newAddress()}`);

    // X-Forwarded-For grows rightwards: the right-most untrusted entry is the client the proxy saw.
    expectThrottled(sameClient);
    expect(otherClient.status).toBe(401);
  });

  test.each([['true'], ['*'], ['2'], ['10.0.0.0/33'], ['loopback, not-an-address']])(
    'When TRUST_PROXY is %p, then the configuration is refused naming TRUST_PROXY (trusting anyone would let every client pick its address)',
    (value) => {
      expect(() => loadMonolithConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
    },
  );

  test('When TRUST_PROXY lists names, addresses and CIDRs, then express gets them as a list', () => {
    expect(loadMonolithConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8 ,192.0.2.1' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    expect(loadMonolithConfig({}).TRUST_PROXY).toEqual(['loopback']);
  });

  test('When IPv6 attempts come from one /64, then they count as one address', async () => {
    const net = `2001:db8:${(++counter).toString(16)}:7`;
    for (let i = 1; i <= 8; i++) await logIn(h.api, uniqueEmail(), WRONG, `${net}::${i.toString(16)}`);

    const sameNet = await logIn(h.api, uniqueEmail(), WRONG, `${net}:ffff:ffff:ffff:ffff`);
    const otherSpelling = await logIn(h.api, uniqueEmail(), WRONG, `${net}:0::9`);
    const nextNet = await logIn(h.api, uniqueEmail(), WRONG, `${net.replace(/:7$/, ':8')}::1`);

    expectThrottled(sameNet);
    expectThrottled(otherSpelling);
    expect(nextNet.status).toBe(401);
  });
});

describe('The window', () => {
  let short: MonolithHarness;
  beforeAll(async () => {
    short = await startMonolith('users_throttle_window', {
      env: { ...LIMITS, USERS_THROTTLE_WINDOW_MS: '2000', USERS_LOGIN_FAILURES_PER_ACCOUNT: '2' },
    });
  });
  afterAll(() => short?.close());

  test('When the window has passed, then the throttled account logs in again, and not before', async () => {
    const email = uniqueEmail();
    await short.monolith.modules.users.api.ensureUser({ email, password: PASSWORD, name: 'Patient', role: 'customer' });
    const from = newAddress();
    const started = Date.now();
    await logIn(short.api, email, WRONG, from);
    await logIn(short.api, email, WRONG, from);

    const throttled = await logIn(short.api, email, PASSWORD, from);
    let res = throttled;
    const deadline = started + 2000 + 10_000;
    while (res.status === 429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await logIn(short.api, email, PASSWORD, from);
    }
    const passed = Date.now() - started;

    expectThrottled(throttled, 2);
    expect(res.status).toBe(200);
    // The window opened at the first failure, after `started`: no success can come sooner.
    expect(passed).toBeGreaterThanOrEqual(2000);
  });
});
