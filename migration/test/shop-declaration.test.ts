import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadMigration } from '@banyan/migration';
import type { Scenario } from '@banyan/parity';
import shop from '../../banyan.migration';
import { gatewayConfigSchema } from '../../gateway/src/config';
import { DEFAULT_COMPARE_RULES, DOMAINS, INTERNAL_SEGMENTS, serviceUrls } from '../../gateway/src/domains';
import { classifyPath } from '../../gateway/src/paths';
import { notificationScenarios } from '../parity/notifications';
import { orderScenarios } from '../parity/orders';
import { paymentScenarios } from '../parity/payments';
import { productScenarios } from '../parity/products';
import { userScenarios } from '../parity/users';
import { notificationsTables } from '../sync/notifications';
import { paymentsTables } from '../sync/payments';
import { productsTables } from '../sync/products';

/**
 * The shop's banyan.migration.ts against what the gateway and the CLI hard-code today. While this
 * passes, switching a tool over to the declaration changes none of its behaviour.
 */
const repo = join(__dirname, '..', '..');
const gatewayConfig = (env: NodeJS.ProcessEnv = {}) => gatewayConfigSchema.parse({ BANYAN_ADMIN_TOKEN: 'a-token-of-sixteen-chars', ...env });
/** The shop's tables (migration/sync/) and scenarios (migration/parity/), which the declaration imports. */
const tables: Record<string, unknown> = { products: productsTables, payments: paymentsTables, notifications: notificationsTables };
const SCENARIOS: Record<string, Scenario[]> = { users: userScenarios, products: productScenarios, orders: orderScenarios, payments: paymentScenarios, notifications: notificationScenarios };

describe("The shop's declaration agrees with the gateway's hard-coded tables", () => {
  const migration = loadMigration({ cwd: repo, env: {} });

  it('When the shop is loaded from the repository root, then it declares the six domains, in the gateway\'s order', () => {
    expect(migration.file).toBe(join(repo, 'banyan.migration.ts'));
    expect(Object.keys(migration.domains)).toEqual([...DOMAINS]);
    expect(shop.domains).toBeDefined();
  });

  it('When a request path is classified by the gateway, then the declaration gives it to the same domain, internal segments included', () => {
    for (const domain of DOMAINS) {
      const declared = migration.domains[domain];
      expect(declared.prefixes).toEqual([`/api/${domain}`]);
      for (const path of [`/api/${domain}`, `/api/${domain}/x`]) expect(classifyPath(path)).toEqual({ ok: true, domain });
      expect(declared.internal).toEqual(INTERNAL_SEGMENTS[domain]);
      for (const segment of declared.internal) expect(classifyPath(`/api/${domain}/${segment}/x`)).toMatchObject({ ok: false, status: 404, reason: 'internal endpoint' });
    }
    expect(classifyPath('/api/users/.well-known/jwks.json')).toEqual({ ok: true, domain: 'users' });
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
    const config = gatewayConfig();
    const services = serviceUrls(config);

    expect(migration.monolith.url).toBe(config.MONOLITH_URL);
    for (const domain of DOMAINS) expect(migration.domains[domain].service.url).toBe(services[domain]);
  });

  it('When the gateway\'s URL variables are set, then the declaration resolves the same URLs from the same variables', () => {
    const env = { MONOLITH_URL: 'http://monolith:3000', PRODUCTS_SERVICE_URL: 'http://products-service:3102', ANALYTICS_SERVICE_URL: 'https://analytics.example' };
    const config = gatewayConfig(env);
    const overridden = loadMigration({ cwd: repo, env });

    expect(overridden.monolith.url).toBe(config.MONOLITH_URL);
    for (const domain of DOMAINS) expect(overridden.domains[domain].service.url).toBe(serviceUrls(config)[domain]);
    for (const name of [overridden.monolith.urlEnv, ...DOMAINS.map((d) => overridden.domains[d].service.urlEnv)]) expect(gatewayConfigSchema.shape).toHaveProperty(name!);
  });

  it("When a domain has tables in migration/sync, then its data spec has them, between the monolith's database and its service's, with the same overrides", () => {
    for (const domain of DOMAINS) {
      const data = migration.domains[domain].data;
      if (!tables[domain]) expect(data).toBeUndefined();
      else expect(data).toEqual({ domain, sourceDatabase: 'banyan_monolith', targetDatabase: `banyan_${domain}`, tables: tables[domain] });
    }
    expect(DOMAINS.filter((d) => migration.domains[d].data)).toEqual(['products', 'payments', 'notifications']);

    // What engine-connect.ts does: MONOLITH_DATABASE and <DOMAIN>_DATABASE replace the spec's names.
    const env = { MONOLITH_DATABASE: 'other_monolith', PRODUCTS_DATABASE: 'other_products' };
    const products = loadMigration({ cwd: repo, env }).domains.products.data!;
    expect([products.sourceDatabase, products.targetDatabase]).toEqual(['other_monolith', 'other_products']);
    for (const name of [migration.monolith.databaseEnv, ...DOMAINS.map((d) => migration.domains[d].service.databaseEnv)]) expect(gatewayConfigSchema.shape).toHaveProperty(name!);
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
      DOMAINS.map((d) => [d, (SCENARIOS[d] ?? []).length, d === 'notifications']),
    );
  });
});
