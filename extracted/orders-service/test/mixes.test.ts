import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSwitchSystem, type SwitchSystem } from './support/switch-system';

/**
 * Each mix of sides for products and payments (issue 12), with orders extracted: the orders
 * service's saga reserves and charges wherever the routing names, at the services' internal APIs
 * or at the monolith's internal doors (ADR 0314). (Both on their services: checkout-saga.test.ts.)
 */
const CARD = { number: '4242424242424242' };

let sys: SwitchSystem;
beforeAll(async () => {
  sys = await startSwitchSystem('orders_mixes');
}, 120_000);
afterAll(() => sys?.close());

type Side = 'monolith' | 'extracted';
const mixes: Array<[Side, Side]> = [
  ['extracted', 'monolith'],
  ['monolith', 'extracted'],
  ['monolith', 'monolith'],
];

test.each(mixes)(
  'When 20 customers check out the last 5 items at the orders service with products %s and payments %s, then 5 are confirmed, stock is 0, and the side that charges captured one payment for each and nothing else',
  async (products, payments) => {
    // Forced: the preflight would refuse these (this system keeps no copy of products' and payments' data across sides).
    for (const [domain, mode] of [['products', products], ['payments', payments]] as const) {
      expect((await sys.gateway.adminApi.put(`/routes/${domain}`, { mode, force: true })).status).toBe(200);
    }
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
    const stockDb = products === 'monolith' ? sys.mono.db.knex : sys.products.db.knex;
    expect((await stockDb('products.products').where({ id: product.body.id }).first('stock')).stock).toBe(0);

    const orderIds = confirmed.map((a) => a.body.id as string);
    const [charging, other] = payments === 'monolith' ? [sys.mono.db.knex, sys.payments.db.knex] : [sys.payments.db.knex, sys.mono.db.knex];
    expect((await charging('payments.payments').whereIn('order_id', orderIds).select('status')).map((p) => p.status)).toEqual(Array(5).fill('captured'));
    expect(await other('payments.payments').whereIn('order_id', orderIds).select('id')).toEqual([]);
    expect(sys.card.state.charges - chargesBefore).toBe(5);
    const sagas = await sys.orders.db.knex('orders.checkout_sagas').whereIn('order_id', orderIds).select('state', 'outcome');
    expect(sagas).toEqual(Array(5).fill({ state: 'done', outcome: 'confirmed' }));
  },
  90_000,
);

test("When anyone but the orders service calls the monolith's internal doors, then it is refused at the monolith's port and is 404 through the gateway", async () => {
  const customer = await sys.mono.signUp();
  const admin = await sys.mono.admin();
  const body = { orderId: randomUUID() };
  for (const token of [undefined, customer.token, admin.token]) {
    const res = await sys.mono.api.post('/api/payments/refunds', body, token);
    expect([res.status, res.body.code]).toEqual([401, 'AUTH.UNAUTHORIZED']);
  }
  const stock = { orderId: randomUUID(), items: [{ productId: randomUUID(), quantity: 1 }] };
  expect((await sys.mono.api.post('/api/products/reservations', stock)).status).toBe(401);
  expect((await sys.mono.api.post('/api/products/reservations', stock, customer.token)).body.code).toBe('AUTH.FORBIDDEN');
  expect((await sys.mono.api.post('/api/products/reservations', stock, admin.token)).body.code).toBe('AUTH.FORBIDDEN');
  for (const path of ['/api/payments/refunds', '/api/products/reservations']) expect((await sys.gateway.api.post(path, body, customer.token)).status).toBe(404);
});
