import { banyan } from './support/cli';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';


describe('banyan status / route / shadow', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;
  let env: Record<string, string>;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('orders-service');
    gw = await startGateway({ label: 'gw_cli', monolith: monolith.url, services: { orders: service.url, products: service.url } });
    env = { BANYAN_ADMIN_URL: gw.adminUrl, BANYAN_ADMIN_TOKEN: ADMIN_TOKEN };
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await service.close();
  });

  test('`banyan route orders canary --percent 25` switches live and says from what to what', async () => {
    const res = await banyan(['route', 'orders', 'canary', '--percent', '25'], env);
    expect(res).toMatchObject({ code: 0, err: '' });
    expect(res.out).toMatch(/^orders: monolith → canary 25% \(version \d+\)$/);
    expect(gw.gateway.table().rows.get('orders')).toMatchObject({ mode: 'canary', percent: 25 });
    const audit = await gw.adminApi.get('/audit?domain=orders');
    expect(audit.body.items[0].actor).toMatch(/@/);
    expect((await banyan(['route', 'orders', 'canary', '--percent', '25'], env)).out).toContain('already canary 25%');
  });

  test('`banyan status` prints a readable table of every domain', async () => {
    await gw.route('products', 'shadow');
    const res = await banyan(['status'], env);
    expect(res.code).toBe(0);
    const lines = res.out.split('\n');
    expect(lines[0]).toMatch(/routing table v\d+ \(database\)/);
    expect(lines.find((l) => l.startsWith('DOMAIN'))).toMatch(/^DOMAIN\s+MODE\s+SERVED BY\s+VERSION\s+CHANGED\s+BY$/);
    expect(lines.find((l) => l.startsWith('orders'))).toMatch(/^orders\s+canary 25%\s+http:\/\/127\.0\.0\.1:\d+ 25% \/ http:\/\/127\.0\.0\.1:\d+ 75%/);
    expect(lines.find((l) => l.startsWith('products'))).toContain('shadow (no comparisons yet)');
    expect(lines.filter((l) => /^(users|payments|notifications|analytics)\s+monolith\s/.test(l))).toHaveLength(4);
  });

  test('`banyan shadow products` shows the match rate and the latest mismatch with its diff', async () => {
    monolith.behave((_req, res) => res.setHeader('content-type', 'application/json').end('{"stock":5}'));
    service.behave((_req, res) => res.setHeader('content-type', 'application/json').end('{"stock":4}'));
    await gw.api.get('/api/products/p1');
    for (let i = 0; i < 100 && (await gw.adminApi.get('/shadow/products')).body.compared < 1; i++) await new Promise((r) => setTimeout(r, 20));
    const res = await banyan(['shadow', 'products'], env);
    expect(res.code).toBe(0);
    expect(res.out).toContain('products: 0.0% match · 1 compared, 1 mismatched');
    expect(res.out).toMatch(/GET \/api\/products\/p1/);
    expect(res.out).toMatch(/replace\s+\/stock\s+4/);
    monolith.behave('ok');
    service.behave('ok');
  });

  test.each([
    ['an invalid mode', ['route', 'orders', 'banana'], 2, /answered 400: mode: mode must be one of/],
    ['an unknown domain', ['route', 'bananas', 'extracted'], 2, /Unknown domain "bananas"/],
    ['a bad percent', ['route', 'orders', 'canary', '--percent', '150'], 1, /a whole number from 0 to 100/],
  ])('With %s it exits non-zero naming the reason', async (_name, args, code, message) => {
    const res = await banyan(args, env);
    expect(res.code).toBe(code);
    expect(res.err).toMatch(message);
  });

  test('Without a token, with a wrong one, or with no gateway, the error says what to fix', async () => {
    const noToken = await banyan(['status'], { BANYAN_ADMIN_URL: gw.adminUrl });
    expect(noToken).toMatchObject({ code: 2, err: expect.stringContaining('BANYAN_ADMIN_TOKEN is not set') });
    const wrong = await banyan(['status'], { BANYAN_ADMIN_URL: gw.adminUrl, BANYAN_ADMIN_TOKEN: 'x'.repeat(20) });
    expect(wrong).toMatchObject({ code: 4, err: expect.stringContaining('refused the admin token (401)') });
    const down = await banyan(['status'], { BANYAN_ADMIN_URL: 'http://127.0.0.1:9', BANYAN_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(down).toMatchObject({ code: 3, err: expect.stringContaining('cannot reach the gateway admin API at http://127.0.0.1:9') });
  });
});
