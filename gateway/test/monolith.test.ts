import { startMonolith, type MonolithHarness } from '../../monolith/test/support/harness';
import { startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/** The real monolith behind the gateway: the contract API must work through it unchanged. */
describe('Gateway in front of the real monolith', () => {
  let mono: MonolithHarness;
  let orders: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    mono = await startMonolith('gw_monolith');
    orders = await startStub('orders-service');
    // Products' "service" is a second door to the same monolith, so shadow comparisons must all match.
    gw = await startGateway({ label: 'gw_monolith', monolith: mono.served.url, services: { orders: orders.url, products: mono.served.url } });
  }, 60_000);
  afterAll(async () => {
    await gw.close();
    await orders.close();
    await mono.close();
  });

  test('Sign-up, login, the JWKS, my profile and the catalog work through the gateway in monolith mode', async () => {
    const email = `gw-${Date.now()}@example.com`;
    const created = await gw.api.post('/api/users', { email, password: 'correct horse battery staple', name: 'Via Gateway' });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-banyan-route')).toBe('monolith; mode=monolith');
    const login = await gw.api.post('/api/users/login', { email, password: 'correct horse battery staple' });
    expect(login.status).toBe(200);
    const me = await gw.api.get('/api/users/me', login.body.token);
    expect(me.body).toMatchObject({ email, name: 'Via Gateway', role: 'customer' });
    const jwks = await gw.api.get('/api/users/.well-known/jwks.json');
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'EC' });
    const products = await gw.api.get('/api/products?limit=5');
    expect(products.status).toBe(200);
    expect(products.body).toHaveProperty('items');
  });

  test("The monolith's own errors pass through: malformed JSON 400, unknown route 404, no token 401", async () => {
    expect((await gw.api.raw('POST', '/api/users', '{"email":')).body.code).toBe('HTTP.MALFORMED_JSON');
    expect((await gw.api.get('/api/users/nope/nothing')).status).toBe(404);
    expect((await gw.api.get('/api/users/me')).status).toBe(401);
  });

  test("A tester override is honoured with the monolith's real admin JWT (verified with its JWKS), not with a customer's", async () => {
    const admin = await mono.admin();
    const customer = await mono.signUp();
    const forced = await gw.api.get('/api/orders', admin.token, { 'x-banyan-route': 'extracted' });
    expect(forced.body.served).toBe('orders-service');
    expect(forced.headers.get('x-banyan-route')).toBe('extracted; mode=monolith; override');
    const ignored = await gw.api.get('/api/orders', customer.token, { 'x-banyan-route': 'extracted' });
    expect(ignored.status).toBe(200);
    expect(ignored.headers.get('x-banyan-route')).toBe('monolith; mode=monolith');
  });

  test('In shadow mode with identical sides, every comparison of real responses matches', async () => {
    await gw.route('products', 'shadow');
    const admin = await mono.admin();
    const created = await gw.api.post('/api/products', { sku: `SKU-${Date.now()}`, name: 'Lamp', description: 'A lamp', priceCents: 1999, stock: 3 }, admin.token);
    expect(created.status).toBe(201);
    await gw.api.get('/api/products?limit=10');
    await gw.api.get(`/api/products/${created.body.id}`);
    const deadline = Date.now() + 5_000;
    let report;
    do {
      report = (await gw.adminApi.get('/shadow/products')).body;
    } while (report.compared < 2 && Date.now() < deadline);
    expect(report).toMatchObject({ compared: 2, matched: 2, mismatched: 0 });
    await gw.route('products', 'monolith');
  });
});
