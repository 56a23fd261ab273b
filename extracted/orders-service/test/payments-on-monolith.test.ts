import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSwitchSystem, type SwitchSystem } from './support/switch-system';

/**
 * Another mix of sides (issue 12): orders extracted, products on its service, payments still the
 * monolith's. The orders service's saga charges through the monolith's internal payments door
 * (ADR 0314), which the routing names.
 */
const CARD = { number: '4242424242424242' };

let sys: SwitchSystem;
beforeAll(async () => {
  sys = await startSwitchSystem('orders_paymono');
}, 120_000);
afterAll(() => sys?.close());

test('When 20 customers check out the last 5 items at the orders service while payments is the monolith, then 5 are confirmed, stock is 0, and the monolith captured one payment for each and nothing else', async () => {
  // Forced: the preflight would refuse it (this system keeps no monolith copy of payments' service data).
  expect((await sys.gateway.adminApi.put('/routes/payments', { mode: 'monolith', force: true })).status).toBe(200);
  await sys.gateway.route('orders', 'extracted');
  await sleep(1500); // the monolith's and the orders service's routing watches see it
  const admin = await sys.mono.admin();
  const product = await sys.gateway.api.post('/api/products', { sku: `mix-${randomUUID().slice(0, 8)}`, name: 'Thing', priceCents: 900, stock: 5 }, admin.token);
  expect(product.status).toBe(201);
  const customers = await Promise.all(Array.from({ length: 20 }, () => sys.mono.signUp()));
  const chargesBefore = sys.card.state.charges;

  const answers = await Promise.all(
    customers.map((c) => sys.gateway.api.post('/api/orders', { items: [{ productId: product.body.id, quantity: 1 }], card: CARD }, c.token)),
  );
  const confirmed = answers.filter((a) => a.status === 201);
  expect(confirmed).toHaveLength(5);
  expect(answers.filter((a) => a.status !== 201).map((a) => a.body.code)).toEqual(Array(15).fill('PRODUCTS.INSUFFICIENT_STOCK'));
  expect(confirmed.every((a) => a.headers.get('x-banyan-route')?.startsWith('extracted'))).toBe(true);
  expect((await sys.products.db.knex('products.products').where({ id: product.body.id }).first('stock')).stock).toBe(0);

  const orderIds = confirmed.map((a) => a.body.id as string);
  const atMonolith = await sys.mono.db.knex('payments.payments').whereIn('order_id', orderIds).select('status');
  expect(atMonolith.map((p) => p.status)).toEqual(Array(5).fill('captured'));
  expect(await sys.payments.db.knex('payments.payments').whereIn('order_id', orderIds).select('id')).toEqual([]);
  expect(sys.card.state.charges - chargesBefore).toBe(5);
  const sagas = await sys.orders.db.knex('orders.checkout_sagas').whereIn('order_id', orderIds).select('state', 'outcome');
  expect(sagas).toEqual(Array(5).fill({ state: 'done', outcome: 'confirmed' }));
}, 90_000);

test("When anyone but the orders service calls the monolith's payments door, then it is refused: 401 at the monolith's port, 404 through the gateway", async () => {
  const customer = await sys.mono.signUp();
  const admin = await sys.mono.admin();
  const body = { orderId: randomUUID() };
  for (const token of [undefined, customer.token, admin.token]) {
    const res = await sys.mono.api.post('/api/payments/refunds', body, token);
    expect([res.status, res.body.code]).toEqual([401, 'AUTH.UNAUTHORIZED']);
  }
  expect((await sys.gateway.api.post('/api/payments/refunds', body, customer.token)).status).toBe(404);
});
