import { randomUUID } from 'node:crypto';
import { testCardProcessor, type CardProcessor } from '../src/modules/payments';
import { startMonolith, type MonolithHarness } from './support/harness';

const GOOD = '4242424242424242';

/**
 * The test-card fake with the failures that leave a checkout not knowing what its charge did:
 * `down` (refused before charging), `loseAnswer` (charged, then the answer is lost), `hang`
 * (charged, and the answer never comes: the checkout's process is as good as dead).
 */
function faultyProcessor() {
  const inner = testCardProcessor();
  const state = { mode: 'up' as 'up' | 'down' | 'loseAnswer' | 'hang', charges: 0, cancels: 0, release: () => {} };
  const processor: CardProcessor = {
    async charge(request) {
      if (state.mode === 'down') throw new Error('ECONNREFUSED card processor');
      state.charges++;
      const answer = await inner.charge(request);
      if (state.mode === 'loseAnswer') throw new Error('socket hang up');
      if (state.mode === 'hang') await new Promise<void>((resolve) => (state.release = resolve));
      return answer;
    },
    refund: (request) => inner.refund(request),
    async cancel(request) {
      if (state.mode === 'down') throw new Error('ECONNREFUSED card processor');
      state.cancels++;
      return inner.cancel(request);
    },
  };
  return { processor, state };
}

let h: MonolithHarness;
const card = faultyProcessor();
let adminToken: string;
let customer: { token: string; user: { id: string } };

beforeAll(async () => {
  // Every failed order is due at once; the background pass is out of the way (the tests run passes themselves).
  h = await startMonolith('orders_reconcile', {
    cardProcessor: card.processor,
    env: { ORDERS_RECONCILE_AFTER_MS: '0', ORDERS_RECONCILE_INTERVAL_MS: '3600000' },
  });
  adminToken = (await h.admin()).token;
  customer = await h.signUp();
});
afterAll(() => h.close());
beforeEach(() => Object.assign(card.state, { mode: 'up', charges: 0, cancels: 0 }));

async function product(stock = 10): Promise<{ id: string }> {
  const res = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents: 1250, stock }, adminToken);
  if (res.status !== 201) throw new Error(res.text);
  return res.body;
}
const stockOf = async (id: string) => (await h.api.get(`/api/products/${id}`)).body.stock as number;
const checkout = (productId: string) => h.api.post('/api/orders', { items: [{ productId, quantity: 2 }], card: { number: GOOD } }, customer.token);
const paymentOf = async (orderId: string) => (await h.api.get(`/api/payments?orderId=${orderId}`, customer.token)).body.items?.[0];
const orderRow = (orderId: string) => h.db.knex('orders.orders').where({ id: orderId }).first();
const paymentEvents = async (orderId: string) => (await h.events()).filter((e) => e.type.startsWith('payment.') && e.data.orderId === orderId).map((e) => e.type);

describe('the orders reconciler', () => {
  test('When the processor charged the card but its answer was lost, then checkout is 503 payment_failed, and the reconciler refunds the charge', async () => {
    const mug = await product(5);
    card.state.mode = 'loseAnswer';

    const res = await checkout(mug.id);
    expect(res.status).toBe(503);
    const orderId = res.body.orderId as string;
    expect(await stockOf(mug.id)).toBe(5);
    // The customer was told the order was not charged; at this point the processor holds the money.
    expect(card.state.charges).toBe(1);
    expect((await orderRow(orderId)).reconciled_at).toBeNull();

    card.state.mode = 'up';
    const report = await h.monolith.modules.orders.api.reconcile();

    expect(report).toMatchObject({ reconciled: 1, refunded: 1, abandoned: 0, retrying: 0 });
    expect(card.state.cancels).toBe(1);
    expect(await paymentOf(orderId)).toMatchObject({ orderId, status: 'refunded', amountCents: 2500 });
    // Every ledger reading the events adds up: the charge that happened, and its refund.
    expect(await paymentEvents(orderId)).toEqual(['payment.captured', 'payment.refunded']);
    const row = await orderRow(orderId);
    expect(row.status).toBe('payment_failed');
    expect(row.reconciled_at).toBeInstanceOf(Date);
    expect(row.payment_id).toBe((await paymentOf(orderId)).id);

    // Reconciled orders are left alone.
    expect(await h.monolith.modules.orders.api.reconcile()).toMatchObject({ reconciled: 0 });
    expect(card.state.cancels).toBe(1);
  });

  test('When the processor was unreachable, then the reconciler retries until it answers, closes the claim as declined, and a late charge under the order is refused', async () => {
    const mug = await product(5);
    card.state.mode = 'down';
    const res = await checkout(mug.id);
    expect(res.status).toBe(503);
    const orderId = res.body.orderId as string;

    // Still unreachable: nothing settled, the order waits for the next pass.
    expect(await h.monolith.modules.orders.api.reconcile()).toMatchObject({ reconciled: 0, retrying: 1 });
    expect((await orderRow(orderId)).reconciled_at).toBeNull();

    card.state.mode = 'up';
    expect(await h.monolith.modules.orders.api.reconcile()).toMatchObject({ reconciled: 1, refunded: 0, retrying: 0 });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'declined' });
    expect(await paymentEvents(orderId)).toEqual(['payment.declined']);
    expect(card.state.charges).toBe(0);

    // A charge request for the order still on its way cannot take money any more.
    const late = await h.monolith.modules.payments.api.charge({ orderId, userId: customer.user.id, amountCents: 2500, card: { number: GOOD } });
    expect(late).toMatchObject({ status: 'declined', reason: 'cancelled' });
  });

  test('When a checkout never settled its order (its process as good as dead after the charge), then the reconciler fails the order, releases the stock and refunds the charge; the checkout, if it ever wakes, answers 503', async () => {
    const mug = await product(5);
    card.state.mode = 'hang';
    const stuck = checkout(mug.id);
    while (card.state.charges === 0) await new Promise((r) => setTimeout(r, 10));
    expect(await stockOf(mug.id)).toBe(3);

    const report = await h.monolith.modules.orders.api.reconcile();

    expect(report).toMatchObject({ reconciled: 1, refunded: 1, abandoned: 1, retrying: 0 });
    expect(await stockOf(mug.id)).toBe(5);
    const [order] = await h.db.knex('orders.orders').where({ user_id: customer.user.id, status: 'payment_failed' }).whereNotNull('reconciled_at').orderBy('id', 'desc').limit(1);
    expect(await paymentOf(order.id)).toMatchObject({ status: 'refunded' });
    // No order event: subscribers never heard of this order.
    expect((await h.events()).filter((e) => e.type.startsWith('order.') && e.data.orderId === order.id)).toEqual([]);

    card.state.release();
    const res = await stuck;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'SERVICE.UNAVAILABLE', orderId: order.id });
    expect((await orderRow(order.id)).status).toBe('payment_failed');
    expect(await paymentOf(order.id)).toMatchObject({ status: 'refunded' });
  });

  test('An order is only reconciled once it has been left alone for ORDERS_RECONCILE_AFTER_MS', async () => {
    const patient = await startMonolith('orders_reconcile_after', {
      cardProcessor: card.processor,
      env: { ORDERS_RECONCILE_AFTER_MS: '60000', ORDERS_RECONCILE_INTERVAL_MS: '3600000' },
    });
    try {
      const admin = (await patient.admin()).token;
      const item = (await patient.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents: 100, stock: 1 }, admin)).body;
      const buyer = await patient.signUp();
      card.state.mode = 'loseAnswer';
      const res = await patient.api.post('/api/orders', { items: [{ productId: item.id, quantity: 1 }], card: { number: GOOD } }, buyer.token);
      expect(res.status).toBe(503);
      card.state.mode = 'up';

      expect(await patient.monolith.modules.orders.api.reconcile()).toMatchObject({ reconciled: 0 });
      await patient.db.knex('orders.orders').where({ id: res.body.orderId }).update({ updated_at: patient.db.knex.raw("now() - interval '61 seconds'") });
      expect(await patient.monolith.modules.orders.api.reconcile()).toMatchObject({ reconciled: 1, refunded: 1 });
    } finally {
      await patient.close();
    }
  });
});
