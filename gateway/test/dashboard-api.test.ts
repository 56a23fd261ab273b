import { Script } from 'node:vm';
import { createKnex, migrate } from '@banyan/db';
import { createOutbox, outboxSchema } from '@banyan/outbox';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { loadGatewayConfig, topologyOf } from '../src';
import { outboxDatabases } from '../src/dashboard/databases';
import { readOnly } from '../src/dashboard/outbox';
import { shopMigration } from './support/declaration';
import { ADMIN_TOKEN, adminClient, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

const MISSING = 'banyan_test_dash_never_created';

/** The products table as the products sync spec reads it, on either side. */
async function productsTable(db: TestDatabase, rows: Array<{ id: string; name: string }>) {
  await db.knex.raw(`CREATE SCHEMA products;
    CREATE TABLE products.products (id uuid PRIMARY KEY, sku text NOT NULL, name text NOT NULL, description text NOT NULL,
      price_cents integer NOT NULL, stock integer NOT NULL, version integer NOT NULL)`);
  await db.knex('products.products').insert(rows.map((r) => ({ ...r, sku: `SKU-${r.id.slice(-4)}`, description: '', price_cents: 1000, stock: 3, version: 1 })));
}

describe('Dashboard data endpoints', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;
  let outboxDb: TestDatabase;
  let source: TestDatabase;
  let target: TestDatabase;
  const logs: string[] = [];
  const ids = ['0190a0b0-0000-7000-8000-000000000001', '0190a0b0-0000-7000-8000-000000000002', '0190a0b0-0000-7000-8000-000000000003'];

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('orders-service');
    [outboxDb, source, target] = await Promise.all([createTestDatabase('gw_dash_outbox'), createTestDatabase('gw_dash_src'), createTestDatabase('gw_dash_tgt')]);
    await migrate(outboxDb.knex, [outboxSchema]);
    const outbox = createOutbox({ source: 'test', origin: 'monolith' });
    await outboxDb.knex.transaction(async (trx) => {
      for (const id of ids) await outbox.add(trx, { type: 'product.created', subject: id, data: { id } });
    });
    await outboxDb.knex('outbox.events').where({ aggregate_id: ids[0] }).update({ parked_at: outboxDb.knex.fn.now(), attempts: 5, last_error: 'unroutable: no exchange products' });
    await productsTable(source, ids.map((id) => ({ id, name: 'Lamp' })));
    await productsTable(target, ids.map((id, i) => ({ id, name: i === 1 ? 'Lamp (changed in the service)' : 'Lamp' })));

    gw = await startGateway({
      label: 'gw_dash_api',
      monolith: monolith.url,
      services: { orders: service.url },
      logs,
      env: {
        GATEWAY_BREAKER_VOLUME: '2',
        GATEWAY_OUTBOX_DATABASES: `${outboxDb.settings.database},${source.settings.database},${MISSING}`,
        MONOLITH_DATABASE: source.settings.database,
        PRODUCTS_DATABASE: target.settings.database,
        PAYMENTS_DATABASE: MISSING,
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await service.close();
    await Promise.all([outboxDb.drop(), source.drop(), target.drop()]);
  });

  test('The page and its files need no token, hold no data, and forbid inline script and framing', async () => {
    const anonymous = adminClient(gw.adminUrl, null);
    const page = await anonymous.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.text).toContain('<script src="/dashboard/app.js" defer></script>');
    expect(page.text).not.toMatch(/<script>|\sstyle=|on(click|load|submit)=/);
    // No upstream address, no token: the page is the same for anyone who can reach the port.
    expect(page.text).not.toContain(service.url);
    expect(page.text).not.toContain(ADMIN_TOKEN);

    const js = await anonymous.get('/dashboard/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.text).toContain('sessionStorage');
    // It parses: a syntax error would leave the page a form that posts itself (the browser test finds it, slowly).
    expect(() => new Script(js.text, { filename: 'app.js' })).not.toThrow();
    expect((await anonymous.get('/dashboard/dashboard.css')).headers.get('content-type')).toContain('text/css');
    // Only the two named files are public; any other path falls through to the token check.
    for (const path of ['/dashboard/../src/admin.ts', '/dashboard/%2e%2e%2fsrc%2fadmin.ts', '/dashboard/nothing.js']) {
      const res = await anonymous.get(path);
      expect(res.status).toBe(401);
      expect(res.text).not.toContain('import');
    }
  });

  test.each([
    ['GET', '/stats'],
    ['GET', '/outbox'],
    ['GET', '/verify'],
    ['POST', '/verify/products'],
  ])('%s %s needs the token: 401 without it or with a wrong one', async (method, path) => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef']) {
      const res = await fetch(gw.adminUrl + path, { method, headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
    }
  });

  test('GET /stats gives request and error rates per side, the breaker of each upstream, and shadow counts', async () => {
    await gw.route('orders', 'extracted');
    for (let i = 0; i < 6; i++) expect((await gw.api.get('/api/orders')).status).toBe(200);
    await gw.api.get('/api/products');
    service.behave((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":"BOOM"}'));
    let status = 0;
    for (let i = 0; i < 20 && status !== 503; i++) status = (await gw.api.post('/api/orders', {})).status;
    expect(status).toBe(503);
    service.behave('ok');

    const stats = (await gw.adminApi.get('/stats')).body;
    expect(stats.routingDatabase).toBe('reachable');
    expect(stats.windowSeconds).toBeGreaterThan(0);
    const orders = stats.domains.orders;
    expect(orders.extracted.requestsPerSecond).toBeGreaterThan(0);
    expect(orders.extracted.errorsPerSecond).toBeGreaterThan(0);
    expect(orders.extracted.errorRate).toBeGreaterThan(0);
    expect(orders.extracted.errorRate).toBeLessThan(1);
    expect(orders.extracted.upstreamFailuresPerSecond).toBeGreaterThan(0);
    expect(orders.monolith).toMatchObject({ requestsPerSecond: 0, errorRate: null });
    expect(stats.domains.products.monolith.requestsPerSecond).toBeGreaterThan(0);
    expect(stats.domains.products.shadow).toEqual({ compared: 0, matched: 0, mismatched: 0, errors: 0, skipped: 0, matchRate: null, noise: false });

    const breaker = (url: string) => stats.breakers.find((b: { url: string }) => b.url === url);
    expect(breaker(service.url)).toMatchObject({ state: 'open', used: true, domains: ['orders'] });
    expect(breaker(monolith.url)).toMatchObject({ state: 'closed', used: true, domains: ['users', 'products', 'orders', 'payments', 'notifications', 'analytics'] });
    expect(breaker('http://127.0.0.1:3106')).toMatchObject({ state: 'closed', used: false, domains: ['analytics'] });
    await gw.route('orders', 'monolith');
  });

  test('GET /outbox reads each configured outbox: backlog and parked events, a database without an outbox, one not created', async () => {
    const { databases } = (await gw.adminApi.get('/outbox')).body;
    expect(databases.map((d: { database: string }) => d.database)).toEqual([outboxDb.settings.database, source.settings.database, MISSING]);
    const [withOutbox, without, missing] = databases;
    expect(withOutbox).toMatchObject({ status: 'ok', report: { backlog: 2, retrying: 0, lagMs: null, relays: [] } });
    expect(withOutbox.report.parked).toEqual([expect.objectContaining({ type: 'product.created', aggregateId: ids[0], attempts: 5, lastError: 'unroutable: no exchange products' })]);
    expect(without).toEqual({ database: source.settings.database, status: 'no outbox' });
    expect(missing).toEqual({ database: MISSING, status: 'not created' });
    // The sessions are read-only: the dashboard cannot change an outbox, even by a bug.
    const knex = createKnex(readOnly(outboxDb.settings), { max: 1 });
    await expect(knex('outbox.events').delete()).rejects.toThrow(/read-only transaction/);
    await knex.destroy();
    // Looking must not create it: that is its owner's job.
    const { rows } = await outboxDb.knex.raw('SELECT 1 FROM pg_database WHERE datname = ?', [MISSING]);
    expect(rows).toHaveLength(0);
  });

  test("POST /verify/:domain runs banyan verify's comparison and GET /verify keeps the result with its time", async () => {
    const before = (await gw.adminApi.get('/verify')).body;
    expect(before).toEqual({ domains: ['users', 'products', 'orders', 'payments', 'notifications'], running: [], results: {} });

    const res = await fetch(`${gw.adminUrl}/verify/products`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const result = (await res.json()) as any;
    expect(result).toMatchObject({ domain: 'products', source: source.settings.database, target: target.settings.database, compared: 3, differences: 1 });
    expect(result.sample).toEqual([{ table: 'products.products', key: ids[1], kind: 'differs', columns: { name: ['Lamp', 'Lamp (changed in the service)'] } }]);
    expect(Date.parse(result.finishedAt)).toBeGreaterThanOrEqual(Date.parse(result.startedAt));

    const after = (await gw.adminApi.get('/verify')).body;
    expect(after.results.products).toEqual(result);
  });

  test('Verify says why it could not compare, and refuses domains without a spec', async () => {
    const post = (domain: string) => fetch(`${gw.adminUrl}/verify/${domain}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const payments = await (await post('payments')).json();
    expect(payments).toMatchObject({ domain: 'payments', target: MISSING, compared: 0, error: expect.stringContaining('not created') });
    const analytics = await post('analytics');
    expect(analytics.status).toBe(404);
    expect(((await analytics.json()) as any).code).toBe('GATEWAY.NO_SYNC_SPEC');
    expect((await post('bananas')).status).toBe(400);
  });

  test('The admin token never reaches the logs', async () => {
    await gw.adminApi.get('/stats');
    await adminClient(gw.adminUrl, `${ADMIN_TOKEN}-but-wrong`).get('/stats');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(ADMIN_TOKEN);
  });
});

describe('Dashboard configuration', () => {
  test("By default it shows the monolith's outbox and those of the extracted domains, with the verify overrides applied", () => {
    const outboxes = (env: Record<string, string>) => outboxDatabases(loadGatewayConfig({ BANYAN_ADMIN_TOKEN: ADMIN_TOKEN, ...env }), topologyOf(shopMigration(env)));
    expect(outboxes({})).toEqual(['banyan_monolith', 'banyan_users', 'banyan_products', 'banyan_orders', 'banyan_payments', 'banyan_notifications']);
    expect(outboxes({ PRODUCTS_DATABASE: 'p2' })).toContain('p2');
    expect(outboxes({ MONOLITH_DATABASE: 'm2' })[0]).toBe('m2');
    expect(outboxes({ GATEWAY_OUTBOX_DATABASES: 'a,b' })).toEqual(['a', 'b']);
    expect(() => loadGatewayConfig({ BANYAN_ADMIN_TOKEN: ADMIN_TOKEN, GATEWAY_OUTBOX_DATABASES: 'a; DROP' })).toThrow(/GATEWAY_OUTBOX_DATABASES/);
  });
});
