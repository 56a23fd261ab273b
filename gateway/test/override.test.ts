import { ADMIN_TOKEN, createIssuer, startGateway, type GatewayHarness } from './support/gateway';
import { echo, startStub, type Stub } from './support/stub';

describe('Tester override: x-banyan-route', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;
  let issuer: Awaited<ReturnType<typeof createIssuer>>;
  let stranger: Awaited<ReturnType<typeof createIssuer>>;

  beforeAll(async () => {
    issuer = await createIssuer();
    stranger = await createIssuer();
    monolith = await startStub('monolith');
    // The monolith's users module publishes the public keys the gateway verifies tester tokens with.
    monolith.behave((req, res, body) => {
      if (req.url === '/api/users/.well-known/jwks.json') {
        res.setHeader('content-type', 'application/json');
        return void res.end(JSON.stringify(issuer.jwks));
      }
      echo('monolith')(req, res, body);
    });
    service = await startStub('orders-service');
    gw = await startGateway({ label: 'gw_override', monolith: monolith.url, services: { orders: service.url } });
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await service.close();
  });

  const get = async (headers: Record<string, string>) => {
    const res = await fetch(`${gw.url}/api/orders/1`, { headers });
    const body = (await res.json()) as { served: string };
    return { served: body.served as string, route: res.headers.get('x-banyan-route') };
  };
  const lastSeenHeaders = (stub: Stub) => stub.seen.at(-1)!.headers;

  test('Without a token the header is ignored and stripped', async () => {
    const res = await get({ 'x-banyan-route': 'extracted' });
    expect(res).toEqual({ served: 'monolith', route: 'monolith; mode=monolith' });
    expect(lastSeenHeaders(monolith)['x-banyan-route']).toBeUndefined();
  });

  test("With a customer's valid token it is ignored", async () => {
    const token = await issuer.sign({ sub: 'customer-1', role: 'customer' });
    expect((await get({ 'x-banyan-route': 'extracted', authorization: `Bearer ${token}` })).served).toBe('monolith');
  });

  test('With an admin token signed by someone else it is ignored', async () => {
    const forged = await stranger.sign({ sub: 'mallory', role: 'admin' });
    expect((await get({ 'x-banyan-route': 'extracted', authorization: `Bearer ${forged}` })).served).toBe('monolith');
  });

  test("With an admin's valid JWT the forced side answers, the header says so, and the upstream never sees the header", async () => {
    const token = await issuer.sign({ sub: 'admin-1', role: 'admin' });
    const res = await get({ 'x-banyan-route': 'extracted', authorization: `Bearer ${token}` });
    expect(res).toEqual({ served: 'orders-service', route: 'extracted; mode=monolith; override' });
    expect(lastSeenHeaders(service)['x-banyan-route']).toBeUndefined();
    // The user's own token still reaches the upstream, which authorises the request itself.
    expect(lastSeenHeaders(service).authorization).toBe(`Bearer ${token}`);
  });

  test('With the admin token in x-banyan-token the forced side answers and the token is not forwarded', async () => {
    await gw.route('orders', 'extracted');
    const res = await get({ 'x-banyan-route': 'monolith', 'x-banyan-token': ADMIN_TOKEN });
    expect(res).toEqual({ served: 'monolith', route: 'monolith; mode=extracted; override' });
    expect(lastSeenHeaders(monolith)['x-banyan-token']).toBeUndefined();
  });

  test('With a wrong admin token, or an unknown side, the table decides', async () => {
    expect((await get({ 'x-banyan-route': 'monolith', 'x-banyan-token': `${ADMIN_TOKEN}x` })).served).toBe('orders-service');
    expect((await get({ 'x-banyan-route': 'banana', 'x-banyan-token': ADMIN_TOKEN })).served).toBe('orders-service');
    await gw.route('orders', 'monolith');
  });
});
