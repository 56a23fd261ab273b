import { randomUUID } from 'node:crypto';
import { exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { startMonolith, type MonolithHarness } from './support/harness';

/**
 * Every endpoint of the contract that needs a signed-in caller, against every kind of token an
 * attacker can forge, through real HTTP. Each domain verifies with the users domain's public key
 * (never a shared secret), so each must refuse the same forgeries with the same 401 problem+json.
 * A forged token names an admin with valid issuer, audience and lifetime: only the signature
 * (or its absence) is wrong, so the test fails if any door checked less than the signature.
 */
let h: MonolithHarness;
let admin: { id: string; email: string };

beforeAll(async () => {
  h = await startMonolith('auth_doors');
  admin = (await h.admin()).user;
});
afterAll(() => h.close());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const adminClaims = () => new SignJWT({ email: admin.email, role: 'admin' }).setSubject(admin.id).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE);

async function realKey() {
  const row = await h.db.knex('users.signing_keys').whereNull('retired_at').first();
  return { kid: row.kid as string, key: (await importJWK(row.private_jwk, 'ES256')) as CryptoKey, publicJwk: row.public_jwk };
}

/** Each a way to present a token that must not be accepted. `undefined`: no Authorization header. */
const forgeries: Array<[string, () => Promise<string | undefined>]> = [
  ['no token', async () => undefined],
  ['a token that is not a JWT', async () => 'Bearer not-a-jwt'],
  ['a Basic credential instead of a bearer token', async () => `Basic ${Buffer.from('admin@banyan.local:secret').toString('base64')}`],
  [
    'alg none',
    async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: admin.id, email: admin.email, role: 'admin', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 600 };
      return `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    },
  ],
  [
    'HS256 keyed with the public key',
    async () => {
      const { kid, publicJwk } = await realKey();
      const pem = await exportSPKI((await importJWK(publicJwk, 'ES256')) as CryptoKey);
      return `Bearer ${await adminClaims().setProtectedHeader({ alg: 'HS256', kid }).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(pem))}`;
    },
  ],
  [
    'another key pair under the real kid',
    async () => {
      const { kid } = await realKey();
      const { privateKey } = await generateKeyPair('ES256');
      return `Bearer ${await adminClaims().setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt().setExpirationTime('10m').sign(privateKey)}`;
    },
  ],
  [
    'the real key, expired an hour ago',
    async () => {
      const { kid, key } = await realKey();
      const now = Math.floor(Date.now() / 1000);
      return `Bearer ${await adminClaims().setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(key)}`;
    },
  ],
  [
    'a payload swapped under a signature of the real key',
    async () => {
      const { kid, key } = await realKey();
      const token = await adminClaims().setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt().setExpirationTime('10m').sign(key);
      const [header, , signature] = token.split('.');
      const elevated = b64({ sub: randomUUID(), email: 'mallory@example.com', role: 'admin', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 });
      return `Bearer ${header}.${elevated}.${signature}`;
    },
  ],
];

/**
 * The contract's endpoints that need a caller, one per domain at least. Every row has its three
 * cells (jest would take a missing third argument for a `done` callback).
 */
const doors: Array<[string, string, unknown]> = [
  ['GET', '/api/users/me', undefined],
  ['PATCH', '/api/users/me', { name: 'Mallory' }],
  ['POST', '/api/products', { sku: 'FORGED-1', name: 'Forged', priceCents: 100, stock: 1 }],
  ['PATCH', `/api/products/${randomUUID()}`, { name: 'Forged' }],
  ['POST', `/api/products/${randomUUID()}/stock`, { delta: 1 }],
  ['POST', '/api/orders', { items: [{ productId: randomUUID(), quantity: 1 }], card: { number: '4242424242424242' } }],
  ['GET', '/api/orders', undefined],
  ['GET', `/api/orders/${randomUUID()}`, undefined],
  ['POST', `/api/orders/${randomUUID()}/cancel`, undefined],
  ['GET', `/api/payments?orderId=${randomUUID()}`, undefined],
  ['GET', `/api/payments/${randomUUID()}`, undefined],
  ['GET', '/api/notifications', undefined],
  ['GET', '/api/analytics/sales', undefined],
  ['GET', '/api/analytics/top-products', undefined],
];

describe.each(forgeries)('With %s', (_what, present) => {
  test.each(doors)('%s %s answers 401 AUTH.UNAUTHORIZED as problem+json, and changes nothing', async (method, path, body) => {
    const authorization = await present();
    const eventsBefore = (await h.events()).length;

    const res = await fetch(`${h.served.url}${path}`, {
      method,
      headers: { ...(authorization ? { authorization } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const problem = (await res.json()) as { code?: string };

    expect({ status: res.status, code: problem.code }).toEqual({ status: 401, code: 'AUTH.UNAUTHORIZED' });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await h.events()).length).toBe(eventsBefore);
  });
});
