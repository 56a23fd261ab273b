import { randomUUID } from 'node:crypto';
import { staticRoutes } from '@banyan/routing-client';
import { CALLER_TOKEN, jwksVerifier, observedProcessor, startPaymentsService, type PaymentsServiceHarness } from '../../extracted/payments-service/test/support';
import { startMonolith, type MonolithHarness } from './support/harness';

const GOOD = '4242 4242 4242 4242';
const DECLINED = '4000000000000002';

let h: MonolithHarness;
let svc: PaymentsServiceHarness;
const card = observedProcessor();
let adminToken: string;
let customer: { token: string; user: { id: string } };

beforeAll(async () => {
  // The service verifies customers' tokens with the monolith's users JWKS, over HTTP.
  svc = await startPaymentsService('pay_extracted_svc', {
    verifier: jwksVerifier(() => `${h.served.url}/api/users/.well-known/jwks.json`),
    cardProcessor: card.processor,
  });
  h = await startMonolith('pay_extracted', {
    routing: staticRoutes({ payments: 'extracted' }),
    env: {
      PAYMENTS_SERVICE_URL: svc.served.url,
      PAYMENTS_SERVICE_TOKEN: CALLER_TOKEN,
      PAYMENTS_TIMEOUT_MS: '300',
      // Failed orders are due for the reconciler at once; only the test's own passes run it.
      ORDERS_RECONCILE_AFTER_MS: '0',
      ORDERS_RECONCILE_INTERVAL_MS: '3600000',
    },
  });
  adminToken = (await h.admin()).token;
  customer = await h.signUp();
});
afterAll(async () => {
  await h.close();
  await svc.close();
});
beforeEach(() => {
  Object.assign(card.state, { down: false, delayMs: 0, charges: 0 });
});

async function product(stock = 10, priceCents = 1250): Promise<{ id: string }> {
  const res = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents, stock }, adminToken);
  if (res.status !== 201) throw new Error(res.text);
  return res.body;
}
const checkout = async (number = GOOD) => h.api.post('/api/orders', { items: [{ productId: (await product()).id, quantity: 2 }], card: { number } }, customer.token);
const servicePayment = (orderId: string) => svc.db.knex('payments.payments').where({ order_id: orderId }).first();
const monolithPayment = (orderId: string) => h.db.knex('payments.payments').where({ order_id: orderId }).first();

describe('checkout while payments is extracted', () => {
  test('When a customer checks out with 4242…, then 201 confirmed and the payment is made by the service, not the module', async () => {
    const res = await checkout();

    expect(res.status).toBe(201);
    expect(res.body.status).toBe('confirmed');
    const payment = await servicePayment(res.body.id);
    expect(payment).toMatchObject({ status: 'captured', user_id: customer.user.id, amount_cents: '2500', card_last4: '4242' });
    // The module's table only gets it through sync (another test file), never by charging itself.
    expect(await monolithPayment(res.body.id)).toBeUndefined();
    expect(await h.events('payment.captured')).toEqual([]);
    const view = await svc.api.get(`/api/payments?orderId=${res.body.id}`, customer.token);
    expect(view.body.items).toEqual([{ id: payment.id, orderId: res.body.id, amountCents: 2500, status: 'captured' }]);
  });

  test('When the card is 4000…0002, then 402 PAYMENTS.DECLINED and the order is payment_declined', async () => {
    const res = await checkout(DECLINED);

    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ code: 'PAYMENTS.DECLINED', orderId: expect.any(String), reason: 'card_declined' });
    expect((await h.api.get(`/api/orders/${res.body.orderId}`, customer.token)).body.status).toBe('payment_declined');
    expect((await servicePayment(res.body.orderId)).status).toBe('declined');
  });

  test('When a confirmed order is cancelled, then the service refunds it', async () => {
    const placed = await checkout();
    const cancelled = await h.api.post(`/api/orders/${placed.body.id}/cancel`, undefined, customer.token);

    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await servicePayment(placed.body.id)).status).toBe('refunded');
  });

  test('When the service answers after the door’s timeout, then checkout is 503 with a payment_failed order, and the retried charge returns the first answer without charging again', async () => {
    card.state.delayMs = 600;
    const res = await checkout();
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SERVICE.UNAVAILABLE');
    const orderId = res.body.orderId as string;
    expect((await h.api.get(`/api/orders/${orderId}`, customer.token)).body.status).toBe('payment_failed');

    // The first call went on at the service and charged the card.
    await new Promise((r) => setTimeout(r, 500));
    const first = await servicePayment(orderId);
    expect(first.status).toBe('captured');

    card.state.delayMs = 0;
    const again = await h.monolith.modules.payments.api.charge({ orderId, userId: customer.user.id, amountCents: 2500, card: { number: GOOD } });
    expect(again).toEqual({ paymentId: first.id, status: 'captured' });
    expect(card.state.charges).toBe(1);
  });

  test('When the service charged the card after the door’s timeout, then the reconciler refunds it at the service and the order is reconciled', async () => {
    card.state.delayMs = 600;
    const res = await checkout();
    expect(res.status).toBe(503);
    const orderId = res.body.orderId as string;
    await new Promise((r) => setTimeout(r, 500));
    expect((await servicePayment(orderId)).status).toBe('captured');
    card.state.delayMs = 0;

    await h.monolith.modules.orders.api.reconcile();

    const payment = await servicePayment(orderId);
    expect(payment.status).toBe('refunded');
    const order = await h.db.knex('orders.orders').where({ id: orderId }).first();
    expect(order).toMatchObject({ status: 'payment_failed', payment_id: payment.id });
    expect(order.reconciled_at).toBeInstanceOf(Date);
    expect(card.state.charges).toBe(1);
    // The service recorded the refund as its own event (which flows back to the module by sync).
    expect((await svc.events('payment.refunded')).filter((e) => e.data.orderId === orderId)).toHaveLength(1);
  });

  test('When the monolith’s credential is wrong, then checkout is 503 and nothing is charged', async () => {
    const wrong = await startMonolith('pay_extracted_wrong', {
      routing: staticRoutes({ payments: 'extracted' }),
      env: { PAYMENTS_SERVICE_URL: svc.served.url, PAYMENTS_SERVICE_TOKEN: 'not-the-credential-at-all' },
    });
    try {
      const admin = (await wrong.admin()).token;
      const item = (await wrong.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents: 100, stock: 1 }, admin)).body;
      const buyer = await wrong.signUp();
      const res = await wrong.api.post('/api/orders', { items: [{ productId: item.id, quantity: 1 }], card: { number: GOOD } }, buyer.token);
      expect(res.status).toBe(503);
      expect(card.state.charges).toBe(0);
    } finally {
      await wrong.close();
    }
  });
});
