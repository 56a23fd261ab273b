import { startGateway, sleep, type GatewayHarness } from './support/gateway';
import { startStub, type Behaviour, type Stub } from './support/stub';

const failing: Behaviour = (_req, res) => {
  res.statusCode = 500;
  res.setHeader('content-type', 'application/json');
  res.end('{"code":"INTERNAL"}');
};
const hanging: Behaviour = () => undefined;

describe('Upstream failures: circuit breaker, fallback, 502/503/504', () => {
  let monolith: Stub;
  let orders: Stub;
  let payments: Stub;
  let notifications: Stub;
  let gw: GatewayHarness;

  const call = async (method: string, path: string) => {
    const res = await fetch(`${gw.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    const text = await res.text();
    return { status: res.status, route: res.headers.get('x-banyan-route'), type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
  };
  const metric = async (pattern: RegExp) => pattern.exec((await gw.adminApi.get('/metrics')).text)?.[1];

  beforeAll(async () => {
    monolith = await startStub('monolith');
    orders = await startStub('orders-service');
    payments = await startStub('payments-service');
    notifications = await startStub('notifications-service');
    gw = await startGateway({
      label: 'gw_breaker',
      monolith: monolith.url,
      services: { orders: orders.url, payments: payments.url, notifications: notifications.url },
      env: { GATEWAY_BREAKER_VOLUME: '4', GATEWAY_BREAKER_ERROR_PERCENT: '50', GATEWAY_BREAKER_RESET_MS: '700', GATEWAY_UPSTREAM_TIMEOUT_MS: '300' },
    });
    for (const d of ['orders', 'payments', 'notifications'] as const) await gw.route(d, 'extracted');
  });
  afterAll(async () => {
    await gw.close();
    for (const s of [monolith, orders, payments, notifications]) await s.close();
  });

  test('When the service fails, GETs fall back to the monolith, POSTs get its error; the breaker opens, then GET falls back without trying and POST gets 503 + Retry-After; it closes again once the service recovers', async () => {
    orders.behave(failing);
    // Failing, breaker still closed: the GET is answered by the monolith, the POST sees the service's 500.
    const get = await call('GET', '/api/orders/1');
    expect(get).toMatchObject({ status: 200, route: 'monolith; mode=extracted; fallback=status', body: { served: 'monolith' } });
    const post = await call('POST', '/api/orders');
    expect(post).toMatchObject({ status: 500, route: 'extracted; mode=extracted', body: { code: 'INTERNAL' } });
    await call('GET', '/api/orders/2');
    await call('GET', '/api/orders/3');
    expect(await metric(/banyan_gateway_breaker_state\{upstream="127\.0\.0\.1:\d+"\} 2/)).toBeUndefined();

    // Four failures out of four: open. The service is no longer called.
    const calledBefore = orders.seen.length;
    const open = await call('GET', '/api/orders/4');
    expect(open).toMatchObject({ status: 200, route: 'monolith; mode=extracted; fallback=breaker-open', body: { served: 'monolith' } });
    const refused = await call('POST', '/api/orders');
    expect(refused.status).toBe(503);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.retryAfter).toBe('1');
    expect(refused.body).toMatchObject({ status: 503, code: 'GATEWAY.UPSTREAM_UNAVAILABLE' });
    expect(refused.route).toBe('extracted; mode=extracted');
    expect(orders.seen.length).toBe(calledBefore);
    expect(await metric(new RegExp(`banyan_gateway_breaker_state\\{upstream="127\\.0\\.0\\.1:${orders.port}"\\} (\\d)`))).toBe('2');

    // Recovered service, reset timeout passed: the next request is the half-open probe; it succeeds and closes the breaker.
    orders.behave('ok');
    await sleep(800);
    expect(await call('POST', '/api/orders')).toMatchObject({ status: 200, route: 'extracted; mode=extracted', body: { served: 'orders-service' } });
    expect(await call('GET', '/api/orders/5')).toMatchObject({ status: 200, route: 'extracted; mode=extracted' });
    expect(await metric(new RegExp(`banyan_gateway_breaker_state\\{upstream="127\\.0\\.0\\.1:${orders.port}"\\} (\\d)`))).toBe('0');
    expect(await metric(/banyan_gateway_fallbacks_total\{domain="orders",reason="breaker-open"\} (\d+)/)).toBe('1');
  });

  test('When the service does not answer in time, a POST gets 504 problem+json and a GET falls back', async () => {
    payments.behave(hanging);
    const post = await call('POST', '/api/payments');
    expect(post).toMatchObject({ status: 504, body: { code: 'GATEWAY.UPSTREAM_TIMEOUT', status: 504 } });
    expect(post.type).toContain('application/problem+json');
    const get = await call('GET', '/api/payments/1');
    expect(get).toMatchObject({ status: 200, route: 'monolith; mode=extracted; fallback=timeout', body: { served: 'monolith' } });
    payments.behave('ok');
  });

  test('When the service refuses connections, a POST gets 502 problem+json and a GET falls back', async () => {
    await notifications.stop();
    try {
      const post = await call('POST', '/api/notifications');
      expect(post).toMatchObject({ status: 502, body: { code: 'GATEWAY.UPSTREAM_UNREACHABLE', status: 502 } });
      const get = await call('GET', '/api/notifications');
      expect(get).toMatchObject({ status: 200, route: 'monolith; mode=extracted; fallback=connect' });
    } finally {
      await notifications.restart();
    }
  });

  test('When the monolith itself is down there is nothing to fall back to: 502', async () => {
    await monolith.stop();
    try {
      const res = await call('GET', '/api/products');
      expect(res).toMatchObject({ status: 502, route: 'monolith; mode=monolith', body: { code: 'GATEWAY.UPSTREAM_UNREACHABLE' } });
    } finally {
      await monolith.restart();
    }
    expect((await call('GET', '/api/products')).status).toBe(200);
  });

  test('A tester forcing the service gets its failure, not a fallback', async () => {
    payments.behave(failing);
    try {
      const res = await fetch(`${gw.url}/api/payments/1`, { headers: { 'x-banyan-route': 'extracted', 'x-banyan-token': 'test-admin-token-0123456789abcdef' } });
      expect(res.status).toBe(500);
      expect(res.headers.get('x-banyan-route')).toBe('extracted; mode=extracted; override');
    } finally {
      payments.behave('ok');
    }
  });
});
