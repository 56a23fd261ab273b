import { generateKeyPair, exportJWK, SignJWT, type CryptoKey } from 'jose';
import { createLogger } from '@banyan/telemetry';
import { serve, type Served } from '@banyan/http';
import type { MigrationDeclaration, RouteRule } from '@banyan/migration';
import { createTestDatabase, http, type TestDatabase } from '@banyan/testing';
import { buildGateway, gatewayConfigSchema, listen, type Gateway, type CompareRules, type Domain, type Mode } from '../../src';
import { migrationOf, shopMigration } from './declaration';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface GatewayHarness {
  gateway: Gateway;
  served: Served;
  admin: Served;
  url: string;
  adminUrl: string;
  api: ReturnType<typeof http>;
  /** Calls the admin API with the admin token. */
  adminApi: ReturnType<typeof adminClient>;
  db: TestDatabase;
  route(domain: Domain, mode: Mode, percent?: number): Promise<void>;
  close(): Promise<void>;
}

export function adminClient(baseUrl: string, token: string | null = ADMIN_TOKEN) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
  };
  return {
    get: (path: string) => call('GET', path),
    put: (path: string, body: unknown, headers?: Record<string, string>) => call('PUT', path, body, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    delete: (path: string) => call('DELETE', path),
  };
}

/**
 * A real gateway for one test file: its own database (or a shared one, to run two instances),
 * served on free ports, in front of the given upstreams. Its domains are the shop's declaration
 * (banyan.migration.ts), with `monolith` and `services` given as the shop's URL variables, unless
 * the test brings a `declaration` of its own (whose URLs it writes in).
 */
export async function startGateway(options: {
  label: string;
  monolith?: string;
  services?: Partial<Record<Domain, string>>;
  /** The gateway's environment, also read for the declaration's urlEnv/databaseEnv variables. */
  env?: Record<string, string>;
  declaration?: MigrationDeclaration;
  /** Route rules (ADR 0213) added to the shop's declaration, for a test of the shop with rules. */
  routes?: Record<string, RouteRule[]>;
  db?: TestDatabase;
  compareRules?: Partial<Record<Domain, CompareRules>>;
  /** Collect every log line (at debug level) here, for tests that check what is, or is not, logged. */
  logs?: string[];
}): Promise<GatewayHarness> {
  const db = options.db ?? (await createTestDatabase(options.label));
  const serviceEnv = Object.fromEntries(Object.entries(options.services ?? {}).map(([d, u]) => [`${d.toUpperCase()}_SERVICE_URL`, u]));
  const env = {
    ...process.env,
    BANYAN_ADMIN_TOKEN: ADMIN_TOKEN,
    GATEWAY_DATABASE: db.settings.database,
    ...(options.monolith ? { MONOLITH_URL: options.monolith } : {}),
    ...serviceEnv,
    ...options.env,
  };
  const config = gatewayConfigSchema.parse(env);
  const declared = options.declaration ? migrationOf(options.declaration, env) : shopMigration(env);
  const added = options.routes ?? {};
  const migration = { ...declared, domains: Object.fromEntries(Object.entries(declared.domains).map(([d, spec]) => [d, { ...spec, routes: [...spec.routes, ...(added[d] ?? [])] }])) };
  const logs = options.logs;
  const logger = logs
    ? createLogger('gateway-test', 'debug', { write: (line: string) => void logs.push(line) })
    : createLogger('gateway-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const gateway = buildGateway({ config, migration, logger, knex: db.knex, connection: db.settings, compareRules: options.compareRules });
  await gateway.start();
  const served = await listen(gateway.handler, 0, '127.0.0.1', gateway.frontDoor);
  const admin = await serve(gateway.adminApp, 0);
  const adminApi = adminClient(admin.url);
  return {
    gateway,
    served,
    admin,
    url: served.url,
    adminUrl: admin.url,
    api: http(served.url),
    adminApi,
    db,
    async route(domain, mode, percent) {
      const res = await adminApi.put(`/routes/${domain}`, percent === undefined ? { mode } : { mode, percent });
      if (res.status !== 200) throw new Error(`route ${domain} ${mode}: ${res.status} ${res.text}`);
    },
    async close() {
      await served.close(1_000);
      await admin.close(1_000);
      await gateway.stop();
      if (!options.db) await db.drop();
    },
  };
}

/** Users-domain style tokens (ES256, issuer banyan-users) signed by a key the test owns. */
export async function createIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    sign: (claims: { sub: string; role?: 'admin' | 'customer'; email?: string }, key: CryptoKey = privateKey) =>
      new SignJWT({ role: claims.role ?? 'customer', email: claims.email ?? `${claims.sub}@example.com` })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setSubject(claims.sub)
        .setIssuer('banyan-users')
        .setAudience('banyan')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
