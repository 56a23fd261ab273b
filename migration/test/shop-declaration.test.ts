import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadMigration } from '@banyan/migration';
import type { Scenario } from '@banyan/parity';
import shop from '../../banyan.migration';
import { classifyPath } from '../../gateway/src/paths';
import { topologyOf } from '../../gateway/src/topology';
import { notificationScenarios } from '../parity/notifications';
import { orderScenarios } from '../parity/orders';
import { paymentScenarios } from '../parity/payments';
import { productScenarios } from '../parity/products';
import { userScenarios } from '../parity/users';
import { notificationsTables } from '../sync/notifications';
import { ordersTables } from '../sync/orders';
import { paymentsTables } from '../sync/payments';
import { productsTables } from '../sync/products';
import { usersTables } from '../sync/users';

/**
 * The shop's banyan.migration.ts against what the gateway and the CLI hard-coded until they read
 * it (the tables below were gateway/src/domains.ts's and config.ts's): the switch to the
 * declaration changed none of their behaviour. The gateway's path classification is checked as it
 * now runs, from this declaration.
 */
const repo = join(__dirname, '..', '..');
const DOMAINS = ['users', 'products', 'orders', 'payments', 'notifications', 'analytics'] as const;
const INTERNAL_SEGMENTS: Record<string, string[]> = {
  users: ['internal'],
  products: ['internal', 'reservations', 'releases'],
  orders: ['internal'],
  payments: ['internal', 'charges', 'refunds', 'cancellations'],
  notifications: ['internal'],
  analytics: ['internal'],
};
const DEFAULT_COMPARE_RULES: Record<string, { ignore: string[]; unordered: string[] }> = {
  users: { ignore: [], unordered: [] },
  products: { ignore: ['/nextCursor'], unordered: [] },
  orders: { ignore: ['/nextCursor'], unordered: ['/items', '/items/*/items'] },
  payments: { ignore: ['/nextCursor'], unordered: [] },
  notifications: { ignore: ['/nextCursor'], unordered: [] },
  analytics: { ignore: [], unordered: [] },
};
/** The gateway's URL variables and their defaults (the contract's ports), which compose and deploy/ set. */
const URL_VARIABLES: Record<string, [string, string]> = {
  users: ['USERS_SERVICE_URL', 'http://127.0.0.1:3101'],
  products: ['PRODUCTS_SERVICE_URL', 'http://127.0.0.1:3102'],
  orders: ['ORDERS_SERVICE_URL', 'http://127.0.0.1:3103'],
  payments: ['PAYMENTS_SERVICE_URL', 'http://127.0.0.1:3104'],
  notifications: ['NOTIFICATIONS_SERVICE_URL', 'http://127.0.0.1:3105'],
  analytics: ['ANALYTICS_SERVICE_URL', 'http://127.0.0.1:3106'],
};
/** The shop's tables (migration/sync/) and scenarios (migration/parity/), which the declaration imports. */
const tables: Record<string, unknown> = { users: usersTables, products: productsTables, orders: ordersTables, payments: paymentsTables, notifications: notificationsTables };
const SCENARIOS: Record<string, Scenario[]> = { users: userScenarios, products: productScenarios, orders: orderScenarios, payments: paymentScenarios, notifications: notificationScenarios };

describe("The shop's declaration agrees with the gateway's hard-coded tables", () => {
  const migration = loadMigration({ cwd: repo, env: {} });
  const gateway = topologyOf(migration);

  it('When the shop is loaded from the repository root, then it declares the six domains, in the gateway\'s order', () => {
    expect(migration.file).toBe(join(repo, 'banyan.migration.ts'));
    expect(Object.keys(migration.domains)).toEqual([...DOMAINS]);
    expect(shop.domains).toBeDefined();
  });

  it('When a request path is classified by the gateway, then the declaration gives it to the same domain, internal segments included', () => {
    for (const domain of DOMAINS) {
      const declared = migration.domains[domain];
      expect(declared.prefixes).toEqual([`/api/${domain}`]);
      for (const path of [`/api/${domain}`, `/api/${domain}/x`]) expect(classifyPath(path, gateway)).toEqual({ ok: true, domain });
      expect(declared.internal).toEqual(INTERNAL_SEGMENTS[domain]);
      for (const segment of declared.internal) expect(classifyPath(`/api/${domain}/${segment}/x`, gateway)).toMatchObject({ ok: false, status: 404, reason: 'internal endpoint' });
    }
    expect(classifyPath('/api/users/.well-known/jwks.json', gateway)).toEqual({ ok: true, domain: 'users' });
    expect(migration.domains.users.prefixes.some((p) => '/api/users/.well-known/jwks.json'.startsWith(`${p}/`))).toBe(true);
  });

  it('When shadow responses are compared, then each domain has the gateway\'s compare rules and sticky key', () => {
    for (const domain of DOMAINS) {
      expect(migration.domains[domain].compare).toEqual(DEFAULT_COMPARE_RULES[domain]);
      // The gateway keys every domain on the token's subject, else its cookie (gateway/src/sticky.ts).
      expect(migration.domains[domain].stickyKey).toBe('jwt-subject');
    }
  });

  it('When no variable is set, then every URL is the gateway config\'s default', () => {
    expect(migration.monolith.url).toBe('http://127.0.0.1:3000');
    for (const domain of DOMAINS) expect(migration.domains[domain].service.url).toBe(URL_VARIABLES[domain][1]);
  });

  it('When the gateway\'s URL variables are set, then the declaration resolves the same URLs from the same variables', () => {
    const env = { MONOLITH_URL: 'http://monolith:3000', PRODUCTS_SERVICE_URL: 'http://products-service:3102', ANALYTICS_SERVICE_URL: 'https://analytics.example' };
    const overridden = loadMigration({ cwd: repo, env });

    expect(overridden.monolith.url).toBe(env.MONOLITH_URL);
    for (const domain of DOMAINS) {
      const [name, fallback] = URL_VARIABLES[domain];
      expect([overridden.domains[domain].service.urlEnv, overridden.domains[domain].service.url]).toEqual([name, (env as Record<string, string>)[name] ?? fallback]);
    }
    expect(overridden.monolith.urlEnv).toBe('MONOLITH_URL');
  });

  it("When a domain has tables in migration/sync, then its data spec has them, between the monolith's database and its service's, with the same overrides", () => {
    for (const domain of DOMAINS) {
      const data = migration.domains[domain].data;
      if (!tables[domain]) expect(data).toBeUndefined();
      else expect(data).toEqual({ domain, sourceDatabase: 'banyan_monolith', targetDatabase: `banyan_${domain}`, tables: tables[domain] });
    }
    expect(DOMAINS.filter((d) => migration.domains[d].data)).toEqual(['users', 'products', 'orders', 'payments', 'notifications']);

    // What engine-connect.ts does: MONOLITH_DATABASE and <DOMAIN>_DATABASE replace the spec's names.
    const env = { MONOLITH_DATABASE: 'other_monolith', PRODUCTS_DATABASE: 'other_products' };
    const products = loadMigration({ cwd: repo, env }).domains.products.data!;
    expect([products.sourceDatabase, products.targetDatabase]).toEqual(['other_monolith', 'other_products']);
    expect([migration.monolith.databaseEnv, ...DOMAINS.map((d) => migration.domains[d].service.databaseEnv)]).toEqual(['MONOLITH_DATABASE', ...DOMAINS.map((d) => `${d.toUpperCase()}_DATABASE`)]);
  });

  it('When a domain has parity scenarios, then the declaration carries exactly those', () => {
    for (const domain of DOMAINS) expect(migration.domains[domain].parity.scenarios).toEqual(SCENARIOS[domain] ?? []);
  });

  it('When a tool compiled to dist loads the shop\'s declaration under plain Node 24, then Node strips its types and it loads', () => {
    const dist = join(repo, 'packages', 'migration', 'dist', 'index.js');
    expect(existsSync(dist) ? dist : 'run `npm run build` first: this test runs the compiled loader').toBe(dist);

    const script = `const m = require(${JSON.stringify(dist)}).loadMigration({ env: {} });
      process.stdout.write(JSON.stringify(Object.entries(m.domains).map(([n, d]) => [n, d.parity.scenarios.length, Boolean(d.data && d.data.tables[0].batch)])));`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: join(repo, 'gateway'), encoding: 'utf8', timeout: 20_000 });

    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(
      DOMAINS.map((d) => [d, (SCENARIOS[d] ?? []).length, d === 'notifications' || d === 'orders']),
    );
  });
});
