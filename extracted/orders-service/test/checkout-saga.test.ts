import { randomUUID } from 'node:crypto';
import { eventually } from '@banyan/testing';
import { startOrdersSystem, type OrdersSystem } from './support/system';

const CARD = { number: '4242424242424242' };
const DECLINED = { number: '4000000000000002' };

let sys: OrdersSystem;
beforeAll(async () => {
  sys = await startOrdersSystem('orders_saga');
}, 90_000);
afterAll(() => sys?.close());

const paymentsOf = (orderIds: string[]) => sys.payments.db.knex('payments.payments').whereIn('order_id', orderIds).select('order_id', 'status');
const sagasDone = async () => {
  const open = await sys.orders.db.knex('orders.checkout_sagas').whereNot('state', 'done').count<{ count: string }[]>('* as count');
  if (Number(open[0].count) !== 0) throw new Error(`${open[0].count} sagas unfinished`);
};

describe('checkout as a saga in the extracted orders service (products and payments extracted)', () => {
  test('When 20 customers check out the last 5 items at once, then exactly 5 orders are confirmed, stock is 0, each confirmed order has one captured payment and no one else is charged', async () => {
    const productId = await sys.product(5);
    const chargesBefore = sys.card.state.charges;
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const token = await sys.token(randomUUID());
        return sys.orders.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: CARD }, token);
      }),
    );
    const confirmed = answers.filter((a) => a.status === 201);
    expect(confirmed).toHaveLength(5);
    expect(confirmed.every((a) => a.body.status === 'confirmed')).toBe(true);
    expect(answers.filter((a) => a.status !== 201).map((a) => a.body.code)).toEqual(Array(15).fill('PRODUCTS.INSUFFICIENT_STOCK'));
    expect(await sys.stockOf(productId)).toBe(0);

    const orderIds = confirmed.map((a) => a.body.id as string);
    const payments = await paymentsOf(orderIds);
    expect(payments.map((p) => p.status)).toEqual(Array(5).fill('captured'));
    expect(sys.card.state.charges - chargesBefore).toBe(5);
    // No charge without an order: every payment row belongs to a confirmed order of ours.
    const allPayments = await sys.payments.db.knex('payments.payments').select('order_id', 'status');
    const ordersRows = await sys.orders.db.knex('orders.orders').whereIn('id', allPayments.map((p) => p.order_id)).select('id', 'status');
    expect(ordersRows).toHaveLength(allPayments.length);
    await sagasDone();
    // Each confirmed order's order.created and order.confirmed went out through its outbox and relay.
    await eventually(
      async () => {
        const received = sys.events.filter((e) => orderIds.includes(e.subject as string));
        expect(received.map((e) => e.type).sort()).toEqual([...Array(5).fill('order.confirmed'), ...Array(5).fill('order.created')]);
      },
      { timeoutMs: 10_000 },
    );
  }, 60_000);

  test('When the card is declined, then the answer is 402 with the order payment_declined and the stock is given back', async () => {
    const productId = await sys.product(3);
    const res = await sys.orders.api.post('/api/orders', { items: [{ productId, quantity: 2 }], card: DECLINED }, await sys.token(randomUUID()));
    expect(res.status).toBe(402);
    expect(res.body.code).toBe('PAYMENTS.DECLINED');
    const order = await sys.orders.db.knex('orders.orders').where({ id: res.body.orderId }).first();
    expect(order.status).toBe('payment_declined');
    await eventually(async () => expect(await sys.stockOf(productId)).toBe(3), { timeoutMs: 5000 });
  }, 30_000);

  test('When payments is unavailable, then checkout answers 503 with its orderId, the stock is released, the order is payment_failed and no card is charged', async () => {
    const productId = await sys.product(4);
    const chargesBefore = sys.card.state.charges;
    await sys.payments.kill();
    try {
      const res = await sys.orders.api.post('/api/orders', { items: [{ productId, quantity: 3 }], card: CARD }, await sys.token(randomUUID()));
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('SERVICE.UNAVAILABLE');
      const orderId = res.body.orderId as string;
      expect(await sys.stockOf(productId)).toBe(4);
      expect((await sys.orders.db.knex('orders.orders').where({ id: orderId }).first()).status).toBe('payment_failed');
      // The charge's cancellation is owed until payments answers again.
      expect((await sys.orders.db.knex('orders.checkout_sagas').where({ order_id: orderId }).first()).compensations).toEqual(['charge']);
      await sys.payments.revive();
      await eventually(sagasDone, { timeoutMs: 15_000 });
      expect(sys.card.state.charges).toBe(chargesBefore);
      expect(await paymentsOf([orderId])).toEqual([]);
    } finally {
      await sys.payments.revive().catch(() => undefined);
    }
  }, 40_000);

  test('When products is unavailable, then checkout answers 503 and nothing is charged', async () => {
    const productId = await sys.product(2);
    const chargesBefore = sys.card.state.charges;
    await sys.products.close();
    try {
      const res = await sys.orders.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: CARD }, await sys.token(randomUUID()));
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('SERVICE.UNAVAILABLE');
      expect(sys.card.state.charges).toBe(chargesBefore);
    } finally {
      await sys.products.revive();
    }
    await eventually(sagasDone, { timeoutMs: 15_000 });
    expect(await sys.stockOf(productId)).toBe(2);
    expect(sys.card.state.charges).toBe(chargesBefore);
  }, 40_000);

  test('When a confirmed order is cancelled, then it is refunded and its stock comes back at products', async () => {
    const productId = await sys.product(2);
    const token = await sys.token(randomUUID());
    const placed = await sys.orders.api.post('/api/orders', { items: [{ productId, quantity: 2 }], card: CARD }, token);
    expect(placed.status).toBe(201);
    expect(await sys.stockOf(productId)).toBe(0);
    const cancelled = await sys.orders.api.post(`/api/orders/${placed.body.id}/cancel`, undefined, token);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(await sys.stockOf(productId)).toBe(2);
    expect((await paymentsOf([placed.body.id])).map((p) => p.status)).toEqual(['refunded']);
    expect((await sys.orders.api.get(`/api/orders/${placed.body.id}`, token)).body.status).toBe('cancelled');
    expect((await sys.orders.api.get(`/api/orders/${placed.body.id}`, await sys.token(randomUUID()))).body.code).toBe('ORDERS.NOT_FOUND');
  }, 30_000);
});

describe('Idempotency-Key against the orders service', () => {
  test('the same key answers the same order and charges once; another body under it is 422; while the first runs it is 409', async () => {
    const productId = await sys.product(10);
    const token = await sys.token(randomUUID());
    const body = { items: [{ productId, quantity: 1 }], card: CARD };
    const key = { 'idempotency-key': randomUUID() };
    const chargesBefore = sys.card.state.charges;

    const first = await sys.orders.api.post('/api/orders', body, token, key);
    expect(first.status).toBe(201);
    const again = await sys.orders.api.post('/api/orders', body, token, key);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(sys.card.state.charges - chargesBefore).toBe(1);
    expect(await sys.stockOf(productId)).toBe(9);

    const other = await sys.orders.api.post('/api/orders', { ...body, items: [{ productId, quantity: 2 }] }, token, key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('ORDERS.IDEMPOTENCY_KEY_REUSED');

    let release!: () => void;
    sys.card.state.hold = new Promise<void>((r) => (release = r));
    const heldKey = { 'idempotency-key': randomUUID() };
    const held = sys.orders.api.post('/api/orders', body, token, heldKey);
    await eventually(async () => {
      const saga = await sys.orders.db.knex('orders.checkout_sagas').where({ state: 'charging' }).first();
      if (!saga) throw new Error('no checkout at its charge yet');
    }, { timeoutMs: 10_000 });
    const during = await sys.orders.api.post('/api/orders', body, token, heldKey);
    expect(during.status).toBe(409);
    expect(during.body.code).toBe('ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT');
    release();
    sys.card.state.hold = undefined;
    expect((await held).status).toBe(201);
    expect((await sys.orders.api.post('/api/orders', body, token, heldKey)).body.id).toBe((await held).body.id);

    const bad = await sys.orders.api.post('/api/orders', body, token, { 'idempotency-key': 'two words' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION.FAILED');
  }, 40_000);
});
