import { eventually } from '@banyan/testing';
import { classifyPath, MODES, type Mode } from '../src';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from './support/gateway';
import { request } from './support/raw';
import { startStub, type Stub } from './support/stub';

/**
 * The services' internal APIs (what a monolith door called in-process before extraction) are for
 * the system's own processes, which call the services directly. Through the public gateway they
 * must not exist: not for a customer, not with the admin token, not in any mode, not spelled the
 * way an express upstream would still match (case, trailing slash, encoding).
 */
const ORDER = '0190a3b4-7c1d-7000-8000-000000000001';
const INTERNAL: Array<[method: string, path: string]> = [
  ['POST', '/api/payments/charges'],
  ['POST', '/api/payments/refunds'],
  ['POST', '/api/payments/cancellations'],
  ['GET', '/api/payments/refunds'],
  ['POST', '/api/products/reservations'],
  ['POST', `/api/products/reservations/${ORDER}/cancel`],
  ['POST', '/api/products/releases'],
  // What express would still route to the same handlers: it matches case-insensitively and
  // ignores a trailing slash; and forms another framework might normalise.
  ['POST', '/api/payments/Refunds'],
  ['POST', '/api/payments/CHARGES/'],
  ['POST', '/api/payments/charges?orderId=x'],
  ['POST', '/api/payments/%72efunds'],
  ['POST', '/api/payments/refunds;v=1'],
  ['POST', `/api/products/RESERVATIONS/${ORDER}/cancel`],
  // Any domain's `internal` subtree.
  ['POST', '/api/orders/internal/anything'],
  ['GET', '/api/users/internal'],
];

/** Public paths that share a prefix or a word with an internal one, and must still be routed. */
const PUBLIC: Array<[method: string, path: string]> = [
  ['GET', `/api/payments?orderId=${ORDER}`],
  ['GET', `/api/payments/${ORDER}`],
  ['GET', '/api/payments/chargesheet'],
  ['GET', `/api/products/${ORDER}`],
  ['POST', `/api/products/${ORDER}/stock`],
  ['GET', '/api/orders/internals'],
];

describe('Internal service endpoints through the public gateway', () => {
  let monolith: Stub;
  let products: Stub;
  let payments: Stub;
  let orders: Stub;
  let users: Stub;
  let stubs: Stub[];
  let gw: GatewayHarness;

  beforeAll(async () => {
    [monolith, products, payments, orders, users] = await Promise.all(['monolith', 'products-service', 'payments-service', 'orders-service', 'users-service'].map((n) => startStub(n)));
    stubs = [monolith, products, payments, orders, users];
    gw = await startGateway({
      label: 'gw_internal',
      monolith: monolith.url,
      services: { products: products.url, payments: payments.url, orders: orders.url, users: users.url },
    });
  });
  afterAll(async () => {
    await gw.close();
    for (const stub of stubs) await stub.close();
  });

  /** What the upstreams received since `marks` (each stub's count then), as `<stub> <method> <url>`. */
  const mark = () => stubs.map((s) => s.seen.length);
  const seenSince = (marks: number[]) => stubs.flatMap((s, i) => s.seen.slice(marks[i]).map((r) => `${s.name} ${r.method} ${r.url}`));
  const send = (method: string, path: string, headers: Record<string, string> = {}) =>
    request(gw.url, {
      method,
      path,
      // The attack the review found: the admin token presented as the caller's credential.
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
      body: method === 'GET' ? undefined : JSON.stringify({ orderId: ORDER, items: [{ productId: ORDER, quantity: 1 }] }),
    });

  const setMode = async (mode: Mode) => {
    for (const domain of ['products', 'payments', 'orders', 'users'] as const) await gw.route(domain, mode, mode === 'canary' ? 50 : undefined);
  };

  test.each(MODES.map((mode) => [mode]))('When every domain is in %s mode, then each internal path is 404 HTTP.NOT_FOUND and no upstream sees it', async (mode) => {
    await setMode(mode);
    const before = mark();

    const answers = [];
    for (const [method, path] of INTERNAL) {
      const res = await send(method, path);
      answers.push([method, path, res.status, res.headers['content-type'], res.json().code]);
    }
    // The tester override (honoured with the admin token) forces a side, and is no way around it either.
    for (const side of ['monolith', 'extracted']) {
      const res = await send('POST', '/api/payments/refunds', { 'x-banyan-route': side, 'x-banyan-token': ADMIN_TOKEN });
      answers.push(['POST', `/api/payments/refunds (forced ${side})`, res.status, res.headers['content-type'], res.json().code]);
    }

    // A public request after them, waited for on every side it goes to (shadow copies included),
    // so anything the internal requests had sent would have arrived by now.
    const barrier = `/api/payments/${ORDER}?barrier=${mode}`;
    expect((await send('GET', barrier)).status).toBe(200);
    await eventually(() => seenSince(before).filter((line) => line.endsWith(barrier)).length, { until: (n) => n === (mode === 'shadow' ? 2 : 1), timeoutMs: 5_000, intervalMs: 10, what: 'the barrier request at every side' });

    expect(answers).toEqual(
      [...INTERNAL.map(([m, p]) => [m, p]), ['POST', '/api/payments/refunds (forced monolith)'], ['POST', '/api/payments/refunds (forced extracted)']].map(([m, p]) => [
        m,
        p,
        404,
        expect.stringContaining('application/problem+json'),
        'HTTP.NOT_FOUND',
      ]),
    );
    expect(seenSince(before).filter((line) => !line.endsWith(barrier))).toEqual([]);
  });

  test('When the same domains serve their public paths, then those are still routed in every mode', async () => {
    for (const mode of MODES) {
      await setMode(mode);
      for (const [method, path] of PUBLIC) {
        const res = await send(method, path);
        expect([mode, method, path, res.status, res.json().url]).toEqual([mode, method, path, 200, path]);
      }
    }
  });

  test('When an internal path is refused, then it is counted with the other refusals and classifyPath says why', async () => {
    expect(classifyPath('/api/payments/refunds', gw.gateway.topology)).toEqual({ ok: false, status: 404, reason: 'internal endpoint' });
    expect(classifyPath('/api/products/reservations/x/cancel', gw.gateway.topology)).toEqual({ ok: false, status: 404, reason: 'internal endpoint' });
    expect(classifyPath('/api/payments', gw.gateway.topology)).toEqual({ ok: true, domain: 'payments' });
    expect(classifyPath('/api/payments/', gw.gateway.topology)).toEqual({ ok: true, domain: 'payments' });
    const metrics = (await gw.adminApi.get('/metrics')).text;
    expect(Number(/banyan_gateway_rejected_requests_total\{status="404"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(INTERNAL.length);
  });
});
