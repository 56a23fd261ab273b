import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';
import { authenticate, createTokenVerifier, principalOf, requireRole, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { isAppError, toProblem } from '@banyan/errors';
import { http } from '@banyan/testing';

/**
 * Token verification as every process does it: ES256 tokens from the users domain, checked
 * against its public keys (in-process, or fetched from a JWKS URL served for real here).
 */
let privateKey: CryptoKey;
let jwks: JSONWebKeySet;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
});

const sign = (claims: Record<string, unknown>, options: { sub?: string; issuer?: string; audience?: string; expires?: string | number; key?: CryptoKey } = {}) => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setIssuer(options.issuer ?? TOKEN_ISSUER).setAudience(options.audience ?? TOKEN_AUDIENCE);
  if (options.sub !== '') jwt.setSubject(options.sub ?? 'user-1');
  jwt.setExpirationTime(options.expires ?? '5m');
  return jwt.sign(options.key ?? privateKey);
};
const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => (isAppError(err) ? toProblem(err) : err));

describe('createTokenVerifier', () => {
  test("When a token is signed with the users domain's key, then the principal is its subject, email and role", async () => {
    const verifier = createTokenVerifier({ jwks });

    expect(await verifier.verify(await sign({ email: 'ada@example.com', role: 'admin' }))).toEqual({ userId: 'user-1', email: 'ada@example.com', role: 'admin' });
    expect((await verifier.verify(await sign({ email: 'bo@example.com', role: 'superuser' }))).role).toBe('customer');
  });

  test('When a token has expired, then 401 AUTH.UNAUTHORIZED says to log in again', async () => {
    const verifier = createTokenVerifier({ jwks });

    expect(await refusal(verifier.verify(await sign({ email: 'a@b.co' }, { expires: Math.floor(Date.now() / 1000) - 60 })))).toMatchObject({
      status: 401,
      code: 'AUTH.UNAUTHORIZED',
      detail: 'The token has expired: log in again.',
    });
  });

  test('When a token is not the users domain’s (another key, issuer or audience, HMAC, garbage, no subject), then 401 AUTH.UNAUTHORIZED', async () => {
    const verifier = createTokenVerifier({ jwks });
    const stranger = (await generateKeyPair('ES256')).privateKey;
    const hmac = await new SignJWT({ email: 'a@b.co', role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));

    for (const token of [
      await sign({ email: 'a@b.co' }, { key: stranger }),
      await sign({ email: 'a@b.co' }, { issuer: 'someone-else' }),
      await sign({ email: 'a@b.co' }, { audience: 'another-app' }),
      hmac,
      'not.a.token',
      await sign({ email: 'a@b.co' }, { sub: '' }),
    ]) {
      expect(await refusal(verifier.verify(token))).toMatchObject({ status: 401, code: 'AUTH.UNAUTHORIZED' });
    }
  });

  test('When the keys are served at a JWKS URL, then tokens are verified against them', async () => {
    const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const verifier = createTokenVerifier({ jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json` });

      expect(await verifier.verify(await sign({ email: 'ada@example.com', role: 'service' }))).toMatchObject({ role: 'service' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('authenticate and requireRole', () => {
  let server: Server;
  let api: ReturnType<typeof http>;
  beforeAll(async () => {
    const app = express();
    const verifier = createTokenVerifier({ getKey: async () => jwks });
    app.get('/me', authenticate(verifier), (req, res) => {
      res.json(principalOf(req));
    });
    app.get('/admin', authenticate(verifier), requireRole('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (!isAppError(err)) throw err;
      res.status(err.status).json(toProblem(err));
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = http(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test('When a request has no bearer token or a malformed header, then 401; with a valid one, then the principal is on the request', async () => {
    expect(await api.get('/me')).toMatchObject({ status: 401, body: { code: 'AUTH.UNAUTHORIZED' } });
    expect(await api.get('/me', undefined, { authorization: 'Basic YTpi' })).toMatchObject({ status: 401 });
    const token = await sign({ email: 'ada@example.com', role: 'customer' });
    expect(await api.get('/me', undefined, { authorization: `Bearer ${token} extra` })).toMatchObject({ status: 401 });

    expect(await api.get('/me', token)).toMatchObject({ status: 200, body: { userId: 'user-1', email: 'ada@example.com', role: 'customer' } });
  });

  test('When a route needs a role the principal lacks, then 403 AUTH.FORBIDDEN names the role; with it, then 200', async () => {
    expect(await api.get('/admin', await sign({ email: 'c@example.com', role: 'customer' }))).toMatchObject({
      status: 403,
      body: { code: 'AUTH.FORBIDDEN', detail: 'This needs the admin role.' },
    });
    expect(await api.get('/admin', await sign({ email: 'a@example.com', role: 'admin' }))).toMatchObject({ status: 200, body: { ok: true } });
  });
});
