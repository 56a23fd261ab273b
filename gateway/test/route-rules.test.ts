import { defineMigration } from '@banyan/migration';
import { bucketOf } from '../src';
import { sleep } from './support/gateway';
import { startGateway, type GatewayHarness } from './support/gateway';
import { startStub, timeline, type Stub } from './support/stub';

/**
 * Route rules (ADR 0213): `GET /api/products/:id` and `POST /api/products/:id/stock` routed apart
 * from the rest of products, while the list, the other writes and orders follow their domains.
 */
const SETTLE_MS = 100;
const shop = (monolith: string, products: string, orders: string) =>
  defineMigration({
    name: 'Shop with rules',
    monolith: { url: monolith },
    domains: {
      products: {
        prefixes: ['/api/products'],
        service: { url: products },
        compare: { ignore: ['/url'] },
        routes: [
          { name: 'get-one', method: 'GET', path: '/api/products/:id' },
          { name: 'restock', method: 'POST', path: '/api/products/:id/stock' },
        ],
      },
      orders: { prefixes: ['/api/orders'], service: { url: orders } },
    },
  });

const unsignedToken = (sub: string) => `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.sig`;

describe('Route rules inside a domain', () => {
  let monolith: Stub;
  let service: Stub;
  let orders: Stub;
  let gw: GatewayHarness;
  const { arrived, finished, answer } = timeline();

  const rule = async (name: string, body: unknown) => {
    const res = await gw.adminApi.put(`/routes/products/rules/${name}`, body);
    if (res.status !== 200) throw new Error(`rule ${name}: ${res.status} ${res.text}`);
    return res.body;
  };
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(gw.url + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, route: res.headers.get('x-banyan-route'), served: method === 'HEAD' ? undefined : (JSON.parse(text) as { served: string }).served };
  };
  const metrics = async () => (await gw.adminApi.get('/metrics')).text;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('products-service');
    orders = await startStub('orders-service');
    gw = await startGateway({
      label: 'gw_rules',
      declaration: shop(monolith.url, service.url, orders.url),
      env: { GATEWAY_SWITCH_SETTLE_MS: String(SETTLE_MS), GATEWAY_SWITCH_FENCE_MAX_MS: '3000' },
    });
  });
  beforeEach(async () => {
    monolith.behave('ok');
    service.behave('ok');
    await gw.route('products', 'monolith');
    await rule('get-one', { inherit: true });
    await rule('restock', { inherit: true });
    for (let i = 0; i < 100 && gw.gateway.fence.active; i++) await sleep(20);
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([monolith, service, orders].map((s) => s?.close()));
  });

  test('When the admin API lists the routes, then a domain with rules shows each, inheriting at first', async () => {
    const res = await gw.adminApi.get('/routes');

    const products = res.body.routes.find((r: { domain: string }) => r.domain === 'products');
    expect(products.rules.map((r: Record<string, unknown>) => [r.rule, r.method, r.path, r.mode, r.effective])).toEqual([
      ['get-one', 'GET', '/api/products/:id', 'inherit', { mode: 'monolith', percent: 0 }],
      ['restock', 'POST', '/api/products/:id/stock', 'inherit', { mode: 'monolith', percent: 0 }],
    ]);
    expect(res.body.routes.find((r: { domain: string }) => r.domain === 'orders')).not.toHaveProperty('rules');
  });

  test('When one GET is moved to the service, then it is served there and the rest of its domain stays on the monolith', async () => {
    await rule('get-one', { mode: 'extracted' });

    expect(await send('GET', '/api/products/42?fields=all')).toEqual({ status: 200, served: 'products-service', route: 'extracted; mode=extracted; rule=products.get-one' });
    expect((await send('HEAD', '/api/products/42')).route).toBe('extracted; mode=extracted; rule=products.get-one');
    expect((await send('GET', '/api/products/42/')).served).toBe('products-service');
    expect(await send('GET', '/api/products')).toEqual({ status: 200, served: 'monolith', route: 'monolith; mode=monolith' });
    expect((await send('GET', '/api/products/42/stock')).served).toBe('monolith');
    expect((await send('PATCH', '/api/products/42', { name: 'x' })).served).toBe('monolith');
    expect((await send('POST', '/api/products/42/stock', { delta: 1 })).route).toBe('monolith; mode=monolith; rule=products.restock');
    // Path checks still come first: an ambiguous path is refused before any rule is tried.
    expect((await send('GET', '/api/products/a%2F42')).status).toBe(400);

    expect(await metrics()).toContain('banyan_gateway_requests_total{domain="products",side="extracted",mode="extracted",rule="products.get-one",status="2xx"} 3');
    expect(await metrics()).toMatch(/banyan_gateway_requests_total\{domain="products",side="monolith",mode="monolith",status="2xx"\} \d+/);
  });

  test('When the domain is switched while a rule has its own mode, then the rule keeps it; back to inherit, it follows the domain', async () => {
    await rule('get-one', { mode: 'monolith' });
    await gw.route('products', 'extracted');

    expect((await send('GET', '/api/products/1')).route).toBe('monolith; mode=monolith; rule=products.get-one');
    expect((await send('GET', '/api/products')).served).toBe('products-service');

    await rule('get-one', { inherit: true });
    expect((await send('GET', '/api/products/1')).route).toBe('extracted; mode=extracted; rule=products.get-one');
  });

  test('When a rule is in canary, then each user keeps one side, by the same bucket as a domain', async () => {
    await rule('get-one', { mode: 'canary', percent: 30 });

    for (const user of ['user-a', 'user-b', 'user-c', 'user-d', 'user-e']) {
      const routes = new Set<string>();
      for (let i = 0; i < 20; i++) routes.add((await send('GET', `/api/products/${i}`, undefined, { authorization: `Bearer ${unsignedToken(user)}` })).route!);
      const bucket = bucketOf(`sub:${user}`);
      expect([...routes]).toEqual([`${bucket < 30 ? 'extracted' : 'monolith'}; mode=canary; bucket=${bucket}; rule=products.get-one`]);
    }
    expect((await send('GET', '/api/products', undefined, { authorization: `Bearer ${unsignedToken('user-a')}` })).route).toBe('monolith; mode=monolith');
  });

  test('When a rule is in shadow, then its responses are compared and reported under the rule, not the domain', async () => {
    await rule('get-one', { mode: 'shadow' });
    service.behave((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ served: 'monolith', method: req.method, url: req.url, body: '', ...(req.url === '/api/products/2' ? { extra: true } : {}) }));
    });

    await send('GET', '/api/products/1');
    await send('GET', '/api/products/2');
    const report = async () => (await gw.adminApi.get('/shadow/products/get-one')).body;
    for (let i = 0; i < 100 && (await report()).compared < 2; i++) await sleep(20);

    const mine = await report();
    expect(mine).toMatchObject({ domain: 'products', rule: 'get-one', compared: 2, matched: 1, mismatched: 1 });
    expect(mine.mismatches[0]).toMatchObject({ method: 'GET', path: '/api/products/2' });
    const domain = (await gw.adminApi.get('/shadow/products')).body;
    expect(domain.compared).toBe(0);
    expect(domain.routeRules.map((r: { rule: string; compared: number }) => [r.rule, r.compared])).toEqual([
      ['get-one', 2],
      ['restock', 0],
    ]);
    expect(await metrics()).toContain('banyan_gateway_shadow_comparisons_total{domain="products",rule="products.get-one",result="mismatch"} 1');
  });

  test('When a write rule is switched, then its fence holds only the writes it matches, until the old side answered', async () => {
    monolith.behave(answer('monolith', 500));
    service.behave(answer('products-service'));
    const first = send('POST', '/api/products/7/stock', { n: 'first' });
    await sleep(100);
    await rule('restock', { mode: 'extracted' });
    expect(gw.gateway.fence.isFenced('products#restock')).toBe(true);
    expect(gw.gateway.fence.isFenced('products')).toBe(false);

    // Another write of the domain is not held: it does not move.
    const otherAt = Date.now();
    const [other, second] = await Promise.all([send('PATCH', '/api/products/7', { n: 'other' }), send('POST', '/api/products/7/stock', { n: 'second' })]);

    expect(other.served).toBe('monolith');
    expect(arrived.get(JSON.stringify({ n: 'other' }))! - otherAt).toBeLessThan(400);
    expect((await first).served).toBe('monolith');
    expect(second).toMatchObject({ served: 'products-service', route: 'extracted; mode=extracted; rule=products.restock' });
    expect(arrived.get(JSON.stringify({ n: 'second' }))! - finished.get(JSON.stringify({ n: 'first' }))!).toBeGreaterThanOrEqual(SETTLE_MS - 5);
    const text = await metrics();
    expect(text).toContain('banyan_gateway_switch_fence_held_requests_total{domain="products",rule="products.restock"} 1');
    expect(text).toMatch(/banyan_gateway_switch_fences_total\{domain="products",rule="products.restock",outcome="settled"\} \d+/);
  });

  test('When a GET rule is switched, then no fence is raised: it moves no write', async () => {
    await rule('get-one', { mode: 'extracted' });

    expect(gw.gateway.fence.active).toBe(false);
  });

  test('When rules change, then the audit records each, from and to, under its domain', async () => {
    await rule('get-one', { mode: 'canary', percent: 10 });
    await rule('get-one', { inherit: true });

    const items = (await gw.adminApi.get('/audit?domain=products')).body.items;
    expect(items.slice(0, 2)).toEqual([
      expect.objectContaining({ domain: 'products', rule: 'get-one', from: { mode: 'canary', percent: 10 }, to: { mode: 'inherit', percent: 0 } }),
      expect.objectContaining({ domain: 'products', rule: 'get-one', from: { mode: 'inherit', percent: 0 }, to: { mode: 'canary', percent: 10 } }),
    ]);
  });

  test('When the admin API is asked for an unknown rule, or given a bad change, then it answers 400 with a stable code', async () => {
    const unknown = await gw.adminApi.put('/routes/products/rules/nope', { mode: 'extracted' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'GATEWAY.UNKNOWN_RULE', detail: expect.stringContaining('get-one, restock') });
    expect((await gw.adminApi.get('/shadow/orders/anything')).body.code).toBe('GATEWAY.UNKNOWN_RULE');
    expect((await gw.adminApi.put('/routes/nope/rules/get-one', { mode: 'extracted' })).body.code).toBe('GATEWAY.UNKNOWN_DOMAIN');
    const bad = await gw.adminApi.put('/routes/products/rules/get-one', { mode: 'canary' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION.FAILED');
  });
});
