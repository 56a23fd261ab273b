import { startGateway, type GatewayHarness } from './support/gateway';
import { request } from './support/raw';
import { startStub, type Stub } from './support/stub';

describe('Gateway routing modes', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('orders-service');
    gw = await startGateway({ label: 'gw_modes', monolith: monolith.url, services: { orders: service.url } });
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await service.close();
  });

  test('On a fresh database every domain is in monolith mode, and the response says where it went', async () => {
    const routes = await gw.adminApi.get('/routes');
    expect(routes.body.routes.map((r: { mode: string }) => r.mode)).toEqual(Array(6).fill('monolith'));

    const res = await gw.api.get('/api/orders/123?x=1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ served: 'monolith', method: 'GET', url: '/api/orders/123?x=1' });
    expect(res.headers.get('x-banyan-route')).toBe('monolith; mode=monolith');
  });

  test('In extracted mode the service answers, with the body, method and path forwarded unchanged', async () => {
    await gw.route('orders', 'extracted');
    const res = await gw.api.post('/api/orders', { items: [{ productId: 'p1', quantity: 2 }] });
    expect(res.body).toMatchObject({ served: 'orders-service', method: 'POST', url: '/api/orders' });
    expect(JSON.parse(res.body.body)).toEqual({ items: [{ productId: 'p1', quantity: 2 }] });
    expect(res.headers.get('x-banyan-route')).toBe('extracted; mode=extracted');
    // Other domains are untouched.
    expect((await gw.api.get('/api/products')).body.served).toBe('monolith');
  });

  test('The users JWKS path routes with the users domain', async () => {
    const res = await gw.api.get('/api/users/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ served: 'monolith', url: '/api/users/.well-known/jwks.json' });
  });

  test('Hop-by-hop headers are stripped, X-Forwarded-* set, and the request id propagated both ways', async () => {
    await gw.route('orders', 'extracted');
    const before = service.seen.length;
    const res = await request(gw.url, {
      path: '/api/orders/9',
      headers: { 'x-request-id': 'req-abc-123', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': 'drop me', 'proxy-authorization': 'Basic abc', te: 'trailers', 'x-banyan-token': 'nope' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-abc-123');
    const seen = service.seen[before];
    expect(seen.headers['x-request-id']).toBe('req-abc-123');
    expect(seen.headers['x-secret-hop']).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers['x-banyan-token']).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(gw.url).host);
  });

  test('A request without an id gets one, the same upstream and client side', async () => {
    const res = await gw.api.get('/api/payments/1');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(monolith.seen.at(-1)!.headers['x-request-id']).toBe(id);
  });

  test('Upstream response headers pass through, hop-by-hop ones do not; repeated Set-Cookie survives', async () => {
    monolith.behave((_req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('x-custom', 'yes');
      res.setHeader('keep-alive', 'timeout=99');
      res.setHeader('content-type', 'text/plain');
      res.end('plain');
    });
    try {
      const res = await fetch(`${gw.url}/api/products/1`);
      expect(await res.text()).toBe('plain');
      expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      expect(res.headers.get('x-custom')).toBe('yes');
      expect(res.headers.get('keep-alive')).not.toBe('timeout=99');
    } finally {
      monolith.behave('ok');
    }
  });

  test('Upstream 4xx answers pass through as they are', async () => {
    monolith.behave((_req, res) => {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/problem+json');
      res.end(JSON.stringify({ code: 'PRODUCTS.NOT_FOUND', status: 404 }));
    });
    try {
      const res = await gw.api.get('/api/products/nope');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('PRODUCTS.NOT_FOUND');
    } finally {
      monolith.behave('ok');
    }
  });

  test('Back to monolith mode: the monolith answers again', async () => {
    await gw.route('orders', 'monolith');
    const res = await gw.api.get('/api/orders');
    expect(res.body.served).toBe('monolith');
    expect(res.headers.get('x-banyan-route')).toBe('monolith; mode=monolith');
  });
});
