import { randomUUID } from 'node:crypto';
import { staticRoutes } from '@banyan/routing-client';
import { CALLER_TOKEN, jwksVerifier, startPaymentsService, type PaymentsServiceHarness } from '../../extracted/payments-service/test/support';
import { startMonolith, type MonolithHarness } from './support/harness';

const RESET_MS = 800;

let h: MonolithHarness;
let svc: PaymentsServiceHarness;
let adminToken: string;
let customer: { token: string };

beforeAll(async () => {
  svc = await startPaymentsService('pay_breaker_svc', { verifier: jwksVerifier(() => `${h.served.url}/api/users/.well-known/jwks.json`) });
  h = await startMonolith('pay_breaker', {
    routing: staticRoutes({ payments: 'extracted' }),
    env: { PAYMENTS_SERVICE_URL: svc.served.url, PAYMENTS_SERVICE_TOKEN: CALLER_TOKEN, PAYMENTS_BREAKER_RESET_MS: String(RESET_MS) },
  });
  adminToken = (await h.admin()).token;
  customer = await h.signUp();
});
afterAll(async () => {
  await h.close();
  await svc.close();
});

async function product(stock: number): Promise<{ id: string }> {
  const res = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents: 1000, stock }, adminToken);
  if (res.status !== 201) throw new Error(res.text);
  return res.body;
}
const stockOf = async (id: string) => (await h.api.get(`/api/products/${id}`)).body.stock as number;
const checkout = (productId: string) => h.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: { number: '4242424242424242' } }, customer.token);
const breaker = () => h.monolith.modules.payments.remote.breaker;

test('When the payments service dies during checkout, then 5 failures open the breaker, orders fail fast and cleanly, and once it is back the half-open probe closes it', async () => {
  const item = await product(100);
  expect((await checkout(item.id)).status).toBe(201);

  // Injected: the service's HTTP server is closed (connections refused), as when its process dies.
  await svc.kill();

  const failed: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await checkout(item.id);
    expect(res.status).toBe(503);
    // Each of these was tried and failed: the client can tell them from the refusals below.
    expect(res.body.circuit).toBe('closed');
    failed.push(res.body.orderId);
    expect(breaker().opened).toBe(i === 4);
  }
  expect(breaker().opened).toBe(true);

  // Open: the door does not even try the network. Counted by the breaker (a rejection, no
  // call), and timed loosely: far below the call timeout a tried request could wait for, with
  // room for a loaded machine (it takes a few milliseconds on a quiet one).
  let rejected = 0;
  const onReject = () => rejected++;
  breaker().on('reject', onReject);
  const started = performance.now();
  const fast = await checkout(item.id);
  const elapsed = performance.now() - started;
  expect(fast.status).toBe(503);
  breaker().removeListener('reject', onReject);
  expect(rejected).toBe(1);
  expect(elapsed).toBeLessThan(500);
  expect(fast.headers.get('content-type')).toContain('application/problem+json');
  expect(fast.body).toMatchObject({ code: 'SERVICE.UNAVAILABLE', orderId: expect.any(String), circuit: 'open' });
  expect(Number(fast.headers.get('retry-after'))).toBeGreaterThan(0);
  failed.push(fast.body.orderId);

  // What held: every failed order is retryable (payment_failed, stock back), and no card was
  // charged for any of them on either side.
  for (const orderId of failed) expect((await h.api.get(`/api/orders/${orderId}`, customer.token)).body.status).toBe('payment_failed');
  expect(await stockOf(item.id)).toBe(99);
  expect(await svc.db.knex('payments.payments').whereIn('order_id', failed).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
  expect(await h.db.knex('payments.payments').count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);

  // The service comes back; after the reset timeout one probe goes through and closes the breaker.
  await svc.revive();
  await new Promise((r) => setTimeout(r, RESET_MS + 100));
  expect(breaker().halfOpen).toBe(true);
  const probe = await checkout(item.id);
  expect(probe.status).toBe(201);
  expect(breaker().closed).toBe(true);
  expect((await checkout(item.id)).status).toBe(201);
  expect(await stockOf(item.id)).toBe(97);
});
