import { loadGatewayConfig, topologyOf } from '../src';
import { shopMigration } from './support/declaration';
import { ADMIN_TOKEN, adminClient, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

describe('Admin API', () => {
  let monolith: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    gw = await startGateway({ label: 'gw_admin', monolith: monolith.url });
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
  });

  const version = async () => (await gw.adminApi.get('/routes')).body.version as number;

  test('GET /routes lists every domain with mode, percent, sticky key, targets and version', async () => {
    const res = await gw.adminApi.get('/routes');
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('database');
    expect(res.body.routes.map((r: { domain: string }) => r.domain)).toEqual(['users', 'products', 'orders', 'payments', 'notifications', 'analytics']);
    expect(res.body.routes[2]).toMatchObject({
      domain: 'orders',
      mode: 'monolith',
      percent: 0,
      stickyKey: 'jwt sub, else cookie banyan_sticky',
      targets: { monolith: monolith.url, extracted: 'http://127.0.0.1:3103' },
      version: expect.any(Number),
    });
  });

  test.each([
    ['no token', null],
    ['a wrong token', `${ADMIN_TOKEN.slice(0, -1)}X`],
    ['a prefix of the token', ADMIN_TOKEN.slice(0, 16)],
    ['an empty token', ''],
  ])('With %s every admin call is 401 and nothing changes', async (_name, token) => {
    const before = await version();
    const client = adminClient(gw.adminUrl, token);
    for (const path of ['/routes', '/shadow/orders', '/metrics', '/audit']) {
      const res = await client.get(path);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="banyan-admin"');
    }
    const put = await client.put('/routes/orders', { mode: 'extracted' });
    expect(put.status).toBe(401);
    expect(put.body.code).toBe('AUTH.UNAUTHORIZED');
    expect(await version()).toBe(before);
    expect((await gw.api.get('/api/orders')).headers.get('x-banyan-route')).toBe('monolith; mode=monolith');
  });

  test.each([
    ['an unknown domain', '/routes/banana', { mode: 'extracted' }, 'Unknown domain \\"banana\\"'],
    ['percent 150', '/routes/orders', { mode: 'canary', percent: 150 }, 'percent must be 0–100'],
    ['percent -1', '/routes/orders', { mode: 'canary', percent: -1 }, 'percent must be 0–100'],
    ['a fractional percent', '/routes/orders', { mode: 'canary', percent: 12.5 }, 'percent must be a whole number'],
    ['mode banana', '/routes/orders', { mode: 'banana' }, 'mode must be one of monolith, extracted, canary, shadow'],
    ['canary without a percent', '/routes/orders', { mode: 'canary' }, 'canary needs a percent'],
    ['a percent outside canary', '/routes/orders', { mode: 'extracted', percent: 10 }, 'percent applies only to canary'],
    ['an unknown field', '/routes/orders', { mode: 'extracted', target: 'http://evil' }, 'Unrecognized key'],
    ['malformed JSON', '/routes/orders', '{"mode":', 'not valid JSON'],
  ])('An invalid change (%s) is 400 with the reason, and nothing changes', async (_name, path, body, reason) => {
    const before = await version();
    const res = await gw.adminApi.put(path, body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(reason);
    expect(await version()).toBe(before);
  });

  test('A valid change is persisted, versioned and audited with who, when, from and to', async () => {
    const before = await version();
    // No orders service runs here: forced past its preflight (preflight.test.ts), audited as such.
    const res = await gw.adminApi.put('/routes/orders', { mode: 'canary', percent: 25, force: true }, { 'x-banyan-actor': 'alice@laptop' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: true, route: { domain: 'orders', mode: 'canary', percent: 25, updatedBy: 'alice@laptop' } });
    expect(res.body.route.version).toBeGreaterThan(before);
    // The same change again is not a new version.
    const again = await gw.adminApi.put('/routes/orders', { mode: 'canary', percent: 25, force: true });
    expect(again.body).toMatchObject({ changed: false, route: { version: res.body.route.version } });

    const audit = await gw.adminApi.get('/audit?domain=orders');
    expect(audit.body.items[0]).toMatchObject({
      domain: 'orders',
      version: res.body.route.version,
      from: { mode: 'monolith', percent: 0 },
      to: { mode: 'canary', percent: 25 },
      actor: 'alice@laptop',
      remoteAddress: '127.0.0.1',
      note: expect.stringMatching(/^forced past a failed preflight: ready: http:\/\/127\.0\.0\.1:3103\/readyz cannot be reached/),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const stored = await gw.db.knex('gateway.routes').where({ domain: 'orders' }).first();
    expect(stored).toMatchObject({ mode: 'canary', percent: 25 });
    await gw.route('orders', 'monolith');
  });

  test('Probes and the dashboard page need no token; metrics are Prometheus text', async () => {
    const anonymous = adminClient(gw.adminUrl, null);
    expect((await anonymous.get('/healthz')).status).toBe(200);
    expect((await anonymous.get('/readyz')).body).toMatchObject({ status: 'ready' });
    const page = await anonymous.get('/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Banyan gateway</h1>');

    await gw.api.get('/api/products');
    const metrics = await gw.adminApi.get('/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toMatch(/banyan_gateway_requests_total\{domain="products",side="monolith",mode="monolith",status="2xx"\} \d+/);
    expect(metrics.text).toMatch(/banyan_gateway_request_duration_seconds_bucket\{le="0.005",domain="products",side="monolith",mode="monolith"\} \d+/);
    expect(metrics.text).toContain('banyan_gateway_route_table_version');
  });
});

describe('Gateway configuration', () => {
  test('Without BANYAN_ADMIN_TOKEN the gateway refuses to start, naming the variable', () => {
    expect(() => loadGatewayConfig({})).toThrow(/BANYAN_ADMIN_TOKEN: is required/);
    expect(() => loadGatewayConfig({ BANYAN_ADMIN_TOKEN: 'short' })).toThrow(/BANYAN_ADMIN_TOKEN: must be at least 16 characters/);
  });

  test("A bad URL variable of the shop's declaration stops the start too, naming the variable (the declaration's urlEnv, no longer a gateway setting)", () => {
    expect(() => shopMigration({ MONOLITH_URL: 'not a url' })).toThrow(/monolith\.urlEnv: MONOLITH_URL \(from the environment\) must be an http/);
    expect(() => shopMigration({ PRODUCTS_SERVICE_URL: 'ftp://x' })).toThrow(/domains\.products\.service\.urlEnv: PRODUCTS_SERVICE_URL/);
  });

  test("The defaults are the contract's ports and URLs", () => {
    const config = loadGatewayConfig({ BANYAN_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(config).toMatchObject({
      GATEWAY_PORT: 8080,
      GATEWAY_ADMIN_PORT: 8081,
      GATEWAY_ADMIN_HOST: '127.0.0.1',
      GATEWAY_DATABASE: 'banyan_gateway',
    });
    // The targets are the shop's declaration's, with no variable set.
    const shop = topologyOf(shopMigration({}));
    expect([shop.monolith.url, shop.domain('users').serviceUrl, shop.domain('analytics').serviceUrl]).toEqual(['http://127.0.0.1:3000', 'http://127.0.0.1:3101', 'http://127.0.0.1:3106']);
  });
});
