import { generateKeyPair, importJWK, SignJWT, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, exportSPKI, type JWK, type CryptoKey } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { migrate } from '@banyan/db';
import { eventSchemas } from '@banyan/events';
import { createHttpApp, finishHttpApp, serve } from '@banyan/http';
import { createOutbox, outboxSchema, type Outbox } from '@banyan/outbox';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, http, type TestDatabase } from '@banyan/testing';
import { monolithConfigSchema } from '../src/config';
import { createUsersModule } from '../src/modules/users';
import { startMonolith, type MonolithHarness } from './support/harness';
import { staticRoutes } from '@banyan/routing-client';

const config = monolithConfigSchema.parse({ ...process.env, LOG_LEVEL: 'silent' });
const logger = createLogger('users-test', 'silent');
/** Another users module on a given database, as a second process (or a broken one) would build it. */
const usersModule = (db: TestDatabase, outbox: Outbox = createOutbox({ source: '/banyan/monolith', origin: 'monolith' })) =>
  createUsersModule({ knex: db.knex, outbox, config, logger, routing: staticRoutes() });

let h: MonolithHarness;
let users: ReturnType<typeof createUsersModule>;
beforeAll(async () => {
  h = await startMonolith('users');
  users = h.monolith.modules.users;
});
afterAll(async () => {
  await h?.close();
});

let counter = 0;
const uniqueEmail = () => `person-${Date.now()}-${++counter}@example.com`;
const PASSWORD = 'correct horse battery staple';

async function register(overrides: Partial<{ email: string; password: string; name: string }> = {}) {
  const body = { email: uniqueEmail(), password: PASSWORD, name: 'Ada Lovelace', ...overrides };
  const res = await h.api.post('/api/users', body);
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { user: res.body, password: body.password, email: body.email };
}

async function signIn(overrides: Partial<{ email: string; password: string; name: string }> = {}) {
  const registered = await register(overrides);
  const login = await h.api.post('/api/users/login', { email: registered.email, password: registered.password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { ...registered, token: login.body.token as string };
}

/** The module's own signing key, read from its table, to forge tokens that differ in one claim only. */
async function realSigningKey(): Promise<{ kid: string; key: CryptoKey | Uint8Array; publicJwk: JWK }> {
  const row = await h.db.knex('users.signing_keys').whereNull('retired_at').first();
  return { kid: row.kid, key: await importJWK(row.private_jwk, 'ES256'), publicJwk: row.public_jwk };
}

function claimsFor(user: { id: string; email: string; role: string }) {
  return new SignJWT({ email: user.email, role: user.role }).setSubject(user.id).setIssuedAt();
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}

describe('Registering', () => {
  test('When someone registers, then they get 201 and a customer account with a v7 id and a lower-cased email', async () => {
    const email = `Grace.Hopper.${Date.now()}@Example.COM`;

    const res = await h.api.post('/api/users', { email, password: PASSWORD, name: 'Grace Hopper' });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), email: email.toLowerCase(), name: 'Grace Hopper', role: 'customer' });
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('When someone registers, then the password is stored only as a salted scrypt hash', async () => {
    const a = await register({ password: 'same password twice' });
    const b = await register({ password: 'same password twice' });

    const rows = await h.db.knex('users.users').whereIn('id', [a.user.id, b.user.id]).select('password_hash');

    for (const { password_hash } of rows) {
      expect(password_hash).toMatch(/^scrypt\$/);
      expect(password_hash).not.toContain('same password twice');
    }
    expect(rows[0].password_hash).not.toBe(rows[1].password_hash);
  });

  test('When someone registers, then user.registered is written in the same transaction as the user', async () => {
    const { user } = await register({ name: 'Katherine Johnson' });

    const [event] = (await h.events('user.registered')).filter((e) => e.subject === user.id);
    const { rows } = await h.db.knex.raw(
      `SELECT (o.txid::text::numeric % 4294967296) = u.xmin::text::numeric AS same
         FROM outbox.events o, users.users u WHERE o.id = ? AND u.id = ?`,
      [event.id, user.id],
    );

    expect(event.data).toEqual({ userId: user.id, email: user.email, name: 'Katherine Johnson', role: 'customer' });
    expect(eventSchemas['user.registered'].safeParse(event.data).success).toBe(true);
    expect(rows[0].same).toBe(true);
  });

  test('When the email is already taken, in any case, then 409 USERS.EMAIL_TAKEN and no second user or event', async () => {
    const { email } = await register();

    const res = await h.api.post('/api/users', { email: email.toUpperCase(), password: 'another password', name: 'Impostor' });

    expectProblem(res, 409, 'USERS.EMAIL_TAKEN');
    expect(await h.db.knex('users.users').where({ email }).count({ n: '*' })).toEqual([{ n: '1' }]);
    expect((await h.events('user.registered')).filter((e) => e.data.email === email)).toHaveLength(1);
  });

  test('When two registrations race for one email, then exactly one wins and the other gets 409', async () => {
    const email = uniqueEmail();

    const results = await Promise.all(
      [1, 2, 3].map((i) => h.api.post('/api/users', { email, password: PASSWORD, name: `Racer ${i}` })),
    );

    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect((await h.events('user.registered')).filter((e) => e.data.email === email)).toHaveLength(1);
  });

  test('When a client sends a role, then it is ignored and the account is a customer', async () => {
    const res = await h.api.post('/api/users', { email: uniqueEmail(), password: PASSWORD, name: 'Mallory', role: 'admin' });

    expect(res.status).toBe(201);
    expect(res.body.role).toBe('customer');
  });

  test.each([
    ['a name in several scripts', 'Zoë Ωμέγα 李小龍 Ñandú'],
    ['an emoji name of 100 characters', '🌳'.repeat(100)],
  ])('When the name is %s, then it is accepted and kept exactly', async (_what, name) => {
    const { user } = await register({ name });

    expect(user.name).toBe(name);
    expect((await h.db.knex('users.users').where({ id: user.id }).first()).name).toBe(name);
  });

  const valid = () => ({ email: uniqueEmail(), password: PASSWORD, name: 'Valid Name' });
  test.each<[string, unknown, string]>([
    ['the email is missing', { password: PASSWORD, name: 'N' }, 'email'],
    ['the password is missing', { email: 'x@example.com', name: 'N' }, 'password'],
    ['the name is missing', { email: 'y@example.com', password: PASSWORD }, 'name'],
    ['the email is a number', { ...valid(), email: 42 }, 'email'],
    ['the password is an object', { ...valid(), password: { value: PASSWORD } }, 'password'],
    ['the name is null', { ...valid(), name: null }, 'name'],
    ['the password has 7 characters', { ...valid(), password: 'seven77' }, 'password'],
    ['the password has 201 characters', { ...valid(), password: 'p'.repeat(201) }, 'password'],
    ['the email is not an address', { ...valid(), email: 'not-an-email' }, 'email'],
    ['the email has no domain dot', { ...valid(), email: 'a@b' }, 'email'],
    ['the email is huge', { ...valid(), email: `${'a'.repeat(100_000)}@example.com` }, 'email'],
    ['the name is empty', { ...valid(), name: '' }, 'name'],
    ['the name is only spaces', { ...valid(), name: '    ' }, 'name'],
    ['the name has 101 characters', { ...valid(), name: 'n'.repeat(101) }, 'name'],
    ['the name is huge', { ...valid(), name: 'n'.repeat(500_000) }, 'name'],
  ])('When %s, then 400 VALIDATION.FAILED names the field and nothing is written', async (_what, body, field) => {
    const before = (await h.events()).length;

    const res = await h.api.post('/api/users', body);

    expectProblem(res, 400, 'VALIDATION.FAILED');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    expect((await h.events()).length).toBe(before);
  });

  test('When the body is an array instead of an object, then 400 VALIDATION.FAILED', async () => {
    expectProblem(await h.api.post('/api/users', [{ email: uniqueEmail(), password: PASSWORD, name: 'In An Array' }]), 400, 'VALIDATION.FAILED');
  });
});

describe('Logging in', () => {
  test('When a user logs in, then 200 {token,user} with an ES256 token carrying sub, email, role, issuer, audience, expiry and kid', async () => {
    const { user, email } = await register();

    const res = await h.api.post('/api/users/login', { email, password: PASSWORD });

    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(user);
    const header = decodeProtectedHeader(res.body.token);
    const claims = decodeJwt(res.body.token);
    expect(header).toMatchObject({ alg: 'ES256', kid: (await realSigningKey()).kid });
    expect(claims).toMatchObject({ sub: user.id, email: user.email, role: 'customer', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE });
    expect(claims.exp! - claims.iat!).toBe(config.TOKEN_TTL_SECONDS);
  });

  test('When the email is typed in another case with spaces around it, then login still works', async () => {
    const { email } = await register();

    const res = await h.api.post('/api/users/login', { email: `  ${email.toUpperCase()} `, password: PASSWORD });

    expect(res.status).toBe(200);
  });

  test('When the password is wrong or the email unknown, then both get the same 401 USERS.INVALID_CREDENTIALS', async () => {
    const { email } = await register();

    const wrongPassword = await h.api.post('/api/users/login', { email, password: 'not the password' });
    const unknownEmail = await h.api.post('/api/users/login', { email: uniqueEmail(), password: PASSWORD });

    expectProblem(wrongPassword, 401, 'USERS.INVALID_CREDENTIALS');
    expectProblem(unknownEmail, 401, 'USERS.INVALID_CREDENTIALS');
    expect(unknownEmail.body.detail).toBe(wrongPassword.body.detail);
    expect(wrongPassword.body.token).toBeUndefined();
  });

  test('When the email is unknown, then the answer takes about as long as a wrong password (scrypt still runs)', async () => {
    const { email } = await register();
    await h.api.post('/api/users/login', { email: uniqueEmail(), password: PASSWORD }); // warm the decoy hash
    const time = async (body: object) => {
      const start = process.hrtime.bigint();
      await h.api.post('/api/users/login', body);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };

    const unknown = Math.min(await time({ email: uniqueEmail(), password: PASSWORD }), await time({ email: uniqueEmail(), password: PASSWORD }));
    const wrong = Math.min(await time({ email, password: 'wrong password' }), await time({ email, password: 'wrong password' }));

    expect(unknown).toBeGreaterThan(wrong * 0.4);
  });

  test.each<[string, unknown]>([
    ['the password is missing', { email: 'someone@example.com' }],
    ['the email is a number', { email: 1, password: PASSWORD }],
    ['the body is empty', undefined],
  ])('When %s, then 400 VALIDATION.FAILED', async (_what, body) => {
    expectProblem(await h.api.post('/api/users/login', body), 400, 'VALIDATION.FAILED');
  });
});

describe('My profile', () => {
  test('When a signed-in user asks for /me, then they get their own account', async () => {
    const { token, user } = await signIn({ name: 'Me Myself' });

    const res = await h.api.get('/api/users/me', token);

    expect(res.status).toBe(200);
    expect(res.body).toEqual(user);
  });

  test('When a user changes their name, then /me and the stored row show it', async () => {
    const { token, user } = await signIn();

    const res = await h.api.patch('/api/users/me', { name: '  Новое Имя  ' }, token);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...user, name: 'Новое Имя' });
    expect((await h.api.get('/api/users/me', token)).body.name).toBe('Новое Имя');
  });

  test('When a user changes their password, then only the new one logs in', async () => {
    const { token, email } = await signIn();

    const res = await h.api.patch('/api/users/me', { password: 'a brand new password' }, token);

    expect(res.status).toBe(200);
    expectProblem(await h.api.post('/api/users/login', { email, password: PASSWORD }), 401, 'USERS.INVALID_CREDENTIALS');
    expect((await h.api.post('/api/users/login', { email, password: 'a brand new password' })).status).toBe(200);
  });

  test.each<[string, unknown]>([
    ['the email', { email: 'new@example.com' }],
    ['the role', { role: 'admin' }],
    ['nothing', {}],
    ['a too short password', { password: 'short' }],
    ['an empty name', { name: '' }],
    ['a name of the wrong type', { name: 7 }],
  ])('When a user tries to change %s, then 400 VALIDATION.FAILED and the account is unchanged', async (_what, body) => {
    const { token, user } = await signIn();

    const res = await h.api.patch('/api/users/me', body, token);

    expectProblem(res, 400, 'VALIDATION.FAILED');
    expect((await h.api.get('/api/users/me', token)).body).toEqual(user);
  });

  test('When the token belongs to a user who no longer exists, then /me is 404 USERS.NOT_FOUND', async () => {
    const { token, user } = await signIn();
    await h.db.knex('users.users').where({ id: user.id }).delete();

    expectProblem(await h.api.get('/api/users/me', token), 404, 'USERS.NOT_FOUND');
    expectProblem(await h.api.patch('/api/users/me', { name: 'Ghost' }, token), 404, 'USERS.NOT_FOUND');
  });
});

describe('Authorization on /me', () => {
  const bad: Array<[string, () => Promise<Record<string, string>>]> = [
    ['there is no token', async () => ({})],
    ['the scheme is Basic', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
    ['the Bearer has no token', async () => ({ authorization: 'Bearer ' })],
    ['the token is not a JWT', async () => ({ authorization: 'Bearer not-a-jwt' })],
    ['the token has two spaces in the header', async () => ({ authorization: `Bearer  ${(await signIn()).token}` })],
    [
      'the payload was edited to say admin',
      async () => {
        const { token } = await signIn();
        const [header, payload, signature] = token.split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
        return { authorization: `Bearer ${header}.${b64({ ...claims, role: 'admin' })}.${signature}` };
      },
    ],
    [
      'the signature belongs to another token',
      async () => {
        const [a, b] = [await signIn(), await signIn()];
        return { authorization: `Bearer ${a.token.split('.').slice(0, 2).join('.')}.${b.token.split('.')[2]}` };
      },
    ],
    [
      'the token has expired',
      async () => {
        const { user } = await signIn();
        const { kid, key } = await realSigningKey();
        const now = Math.floor(Date.now() / 1000);
        const token = await claimsFor(user).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE)
          .setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(key);
        return { authorization: `Bearer ${token}` };
      },
    ],
    [
      'the token says alg none',
      async () => {
        const { user } = await signIn();
        const now = Math.floor(Date.now() / 1000);
        const claims = { sub: user.id, email: user.email, role: 'admin', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 600 };
        return { authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.` };
      },
    ],
    [
      'the token is HS256 with the public key as the secret',
      async () => {
        const { user } = await signIn();
        const { kid, publicJwk } = await realSigningKey();
        const pem = await exportSPKI((await importJWK(publicJwk, 'ES256')) as CryptoKey);
        const token = await claimsFor(user).setProtectedHeader({ alg: 'HS256', kid }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE)
          .setExpirationTime('10m').sign(new TextEncoder().encode(pem));
        return { authorization: `Bearer ${token}` };
      },
    ],
    [
      'the token is signed by another key pair under the same kid',
      async () => {
        const { user } = await signIn();
        const { kid } = await realSigningKey();
        const other = await generateKeyPair('ES256');
        const token = await claimsFor(user).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE)
          .setExpirationTime('10m').sign(other.privateKey);
        return { authorization: `Bearer ${token}` };
      },
    ],
    [
      'the issuer is not the users domain',
      async () => {
        const { user } = await signIn();
        const { kid, key } = await realSigningKey();
        const token = await claimsFor(user).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('someone-else').setAudience(TOKEN_AUDIENCE)
          .setExpirationTime('10m').sign(key);
        return { authorization: `Bearer ${token}` };
      },
    ],
    [
      'the audience is not banyan',
      async () => {
        const { user } = await signIn();
        const { kid, key } = await realSigningKey();
        const token = await claimsFor(user).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(TOKEN_ISSUER).setAudience('another-app')
          .setExpirationTime('10m').sign(key);
        return { authorization: `Bearer ${token}` };
      },
    ],
  ];

  test.each(bad)('When %s, then GET and PATCH /me answer 401 AUTH.UNAUTHORIZED', async (_what, headers) => {
    const sent = await headers();

    const get = await h.api.get('/api/users/me', undefined, sent);
    const patch = await h.api.raw('PATCH', '/api/users/me', JSON.stringify({ name: 'Hacked' }), sent);

    expectProblem(get, 401, 'AUTH.UNAUTHORIZED');
    expectProblem(patch, 401, 'AUTH.UNAUTHORIZED');
  });

  test('When a token is built the same way with the real key and right claims, then it is accepted (so each rejection above comes from its one flaw)', async () => {
    const { user } = await signIn();
    const { kid, key } = await realSigningKey();
    const token = await claimsFor(user).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE)
      .setExpirationTime('10m').sign(key);

    expect((await h.api.get('/api/users/me', token)).status).toBe(200);
  });
});

describe('Signing keys and JWKS', () => {
  test('When anyone fetches the JWKS, then it holds only public keys, and one of them verifies an issued token', async () => {
    const { token, user } = await signIn();

    const res = await h.api.get('/api/users/.well-known/jwks.json');
    const { payload } = await jwtVerify(token, createLocalJWKSet(res.body), { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: ['ES256'] });

    expect(res.status).toBe(200);
    expect(res.body.keys.length).toBeGreaterThan(0);
    for (const key of res.body.keys) expect(key).not.toHaveProperty('d');
    expect(payload.sub).toBe(user.id);
  });

  test('When a second instance is built on the same database, then it verifies the first one\'s tokens and signs with the same key', async () => {
    const { token, user } = await signIn();
    const second = usersModule(h.db);

    const principal = await second.verifier.verify(token);

    expect(principal).toEqual({ userId: user.id, email: user.email, role: 'customer' });
    expect(await second.api.jwks()).toEqual(await users.api.jwks());
  });

  test('When fresh instances race to create the first key, then they all end up with one and the same key', async () => {
    const db = await createTestDatabase('users_keys');
    try {
      const instances = [usersModule(db), usersModule(db), usersModule(db), usersModule(db)];
      await migrate(db.knex, [outboxSchema, instances[0].schema]);

      const sets = await Promise.all(instances.map((m) => m.api.jwks()));

      expect(sets[0].keys).toHaveLength(1);
      for (const set of sets) expect(set).toEqual(sets[0]);
      expect(await db.knex('users.signing_keys').count({ n: '*' })).toEqual([{ n: '1' }]);
    } finally {
      await db.drop();
    }
  });

  test('When the verifier is used before any key exists, then tokens issued afterwards still verify', async () => {
    const db = await createTestDatabase('users_fresh');
    try {
      const users = usersModule(db);
      await migrate(db.knex, [outboxSchema, users.schema]);
      const stranger = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign((await generateKeyPair('ES256')).privateKey);
      await expect(users.verifier.verify(stranger)).rejects.toMatchObject({ code: 'AUTH.UNAUTHORIZED' });
      const { user } = await users.api.ensureUser({ email: 'late@example.com', password: PASSWORD, name: 'Late', role: 'customer' });
      const app = createHttpApp({ logger });
      app.use('/api/users', users.router);
      const served = await serve(finishHttpApp(app), 0);
      try {
        const login = await http(served.url).post('/api/users/login', { email: 'late@example.com', password: PASSWORD });

        expect(await users.verifier.verify(login.body.token)).toMatchObject({ userId: user.id });
      } finally {
        await served.close(100);
      }
    } finally {
      await db.drop();
    }
  });
});

describe('ensureUser (the seed\'s door)', () => {
  test('When the user is missing, then it is created with the given role and user.registered is written', async () => {
    const email = uniqueEmail();

    const result = await users.api.ensureUser({ email, password: PASSWORD, name: 'Admin', role: 'admin' });

    expect(result).toEqual({ created: true, user: { id: expect.any(String), email, name: 'Admin', role: 'admin' } });
    expect((await h.events('user.registered')).find((e) => e.subject === result.user.id)?.data.role).toBe('admin');
  });

  test('When the user exists, then it is left unchanged (created:false, no event) except that its password is reset', async () => {
    const email = uniqueEmail();
    const first = await users.api.ensureUser({ email, password: PASSWORD, name: 'Admin', role: 'admin' });
    const eventsBefore = (await h.events('user.registered')).length;

    const again = await users.api.ensureUser({ email: email.toUpperCase(), password: 'the reset password', name: 'Other Name', role: 'customer' });

    expect(again).toEqual({ created: false, user: first.user });
    expect((await h.events('user.registered')).length).toBe(eventsBefore);
    expectProblem(await h.api.post('/api/users/login', { email, password: PASSWORD }), 401, 'USERS.INVALID_CREDENTIALS');
    expect((await h.api.post('/api/users/login', { email, password: 'the reset password' })).body.user.role).toBe('admin');
  });

  test('When two callers ensure the same user at once, then one creates it and the other finds it', async () => {
    const email = uniqueEmail();

    const results = await Promise.all([1, 2].map(() => users.api.ensureUser({ email, password: PASSWORD, name: 'Twin', role: 'customer' })));

    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(results[0].user.id).toBe(results[1].user.id);
  });

  test('When writing the event fails, then the transaction rolls back and no user exists', async () => {
    const failing: Outbox = { add: async () => { throw new Error('outbox unavailable'); } };
    const broken = usersModule(h.db, failing);
    const email = uniqueEmail();

    await expect(broken.api.ensureUser({ email, password: PASSWORD, name: 'Nobody', role: 'customer' })).rejects.toThrow('outbox unavailable');

    expect(await users.api.findUserByEmail(email)).toBeUndefined();
  });

  test('When the seed passes a password too short, then it fails with VALIDATION.FAILED', async () => {
    await expect(users.api.ensureUser({ email: uniqueEmail(), password: 'short', name: 'A', role: 'admin' })).rejects.toMatchObject({ code: 'VALIDATION.FAILED' });
  });

  test('When getUser is asked for an unknown or malformed id, then USERS.NOT_FOUND', async () => {
    await expect(users.api.getUser('0198c2a4-0000-7000-8000-000000000000')).rejects.toMatchObject({ code: 'USERS.NOT_FOUND' });
    await expect(users.api.getUser('not-a-uuid')).rejects.toMatchObject({ code: 'USERS.NOT_FOUND' });
  });
});
