import { randomUUID } from 'node:crypto';
import { testCardProcessor, type CardProcessor } from '../src/modules/payments';
import { startMonolith, type MonolithHarness } from './support/harness';

const GOOD = '4242 4242 4242 4242';
const DECLINED = '4000000000000002';

/** The test-card fake behind a switch, so a test can take the processor down. */
function switchableProcessor() {
  const inner = testCardProcessor();
  const state = { down: false };
  const processor: CardProcessor = {
    charge: async (request) => {
      if (state.down) throw new Error('ECONNREFUSED card processor');
      return inner.charge(request);
    },
    refund: (request) => inner.refund(request),
    cancel: (request) => inner.cancel(request),
  };
  return { processor, state };
}

let h: MonolithHarness;
const card = switchableProcessor();
let adminToken: string;
let customer: { token: string; user: { id: string; email: string } };
let other: { token: string; user: { id: string } };

beforeAll(async () => {
  h = await startMonolith('orders', { cardProcessor: card.processor });
  adminToken = (await h.admin()).token;
  customer = await h.signUp({ name: 'Zoë Ångström' });
  other = await h.signUp();
});
afterAll(() => h.close());
beforeEach(() => {
  card.state.down = false;
});

async function product(stock = 10, priceCents = 1250): Promise<{ id: string }> {
  const res = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents, stock }, adminToken);
  if (res.status !== 201) throw new Error(res.text);
  return res.body;
}
const stockOf = async (id: string) => (await h.api.get(`/api/products/${id}`)).body.stock as number;
const placeOrder = (items: Array<{ productId: string; quantity: number }>, number = GOOD, token = customer.token) =>
  h.api.post('/api/orders', { items, card: { number } }, token);
const eventsOf = async (type: string, orderId: string) => (await h.events(type)).filter((e) => e.data.orderId === orderId);
const orderEvents = async (orderId: string) => (await h.events()).filter((e) => e.data.orderId === orderId).map((e) => e.type);

describe('POST /api/orders', () => {
  test('When a customer orders with a good card, then 201 confirmed, stock taken, payment captured and order.created/order.confirmed published', async () => {
    const [mug, tea] = [await product(10, 1250), await product(5, 480)];

    const res = await placeOrder([
      { productId: mug.id, quantity: 2 },
      { productId: tea.id, quantity: 3 },
    ]);

    expect(res.status).toBe(201);
    const order = res.body;
    expect(order).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{14}7/),
      userId: customer.user.id,
      status: 'confirmed',
      totalCents: 2 * 1250 + 3 * 480,
      items: [
        { productId: mug.id, quantity: 2, priceCents: 1250 },
        { productId: tea.id, quantity: 3, priceCents: 480 },
      ],
      createdAt: expect.any(String),
    });
    expect([await stockOf(mug.id), await stockOf(tea.id)]).toEqual([8, 2]);
    const [created] = await eventsOf('order.created', order.id);
    expect(created.data).toEqual({
      orderId: order.id,
      userId: customer.user.id,
      customerEmail: customer.user.email,
      status: 'confirmed',
      totalCents: order.totalCents,
      items: order.items,
      createdAt: order.createdAt,
    });
    const [confirmed] = await eventsOf('order.confirmed', order.id);
    const payments = await h.api.get(`/api/payments?orderId=${order.id}`, customer.token);
    expect(payments.body.items).toEqual([{ id: confirmed.data.paymentId, orderId: order.id, amountCents: order.totalCents, status: 'captured' }]);
    expect(await orderEvents(order.id)).toEqual([
      'product.stock_changed',
      'product.stock_changed',
      'payment.captured',
      'order.created',
      'order.confirmed',
    ]);
  });

  test("When an order's card is declined, then 402 PAYMENTS.DECLINED with the orderId, stock is released and payment.declined is published", async () => {
    const mug = await product(4);

    const res = await placeOrder([{ productId: mug.id, quantity: 3 }], DECLINED);

    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'PAYMENTS.DECLINED', orderId: expect.any(String), reason: 'card_declined' });
    const orderId = res.body.orderId;
    expect(await stockOf(mug.id)).toBe(4);
    expect((await h.api.get(`/api/orders/${orderId}`, customer.token)).body.status).toBe('payment_declined');
    expect(await orderEvents(orderId)).toEqual([
      'product.stock_changed',
      'payment.declined',
      'product.stock_changed',
      'order.created',
      'order.cancelled',
    ]);
    expect((await eventsOf('order.created', orderId))[0].data.status).toBe('payment_declined');
    expect((await eventsOf('order.cancelled', orderId))[0].data).toMatchObject({ reason: 'payment_declined', status: 'payment_declined', wasConfirmed: false });
    expect((await eventsOf('product.stock_changed', orderId)).map((e) => e.data.reason)).toEqual(['order_reserved', 'order_released']);
  });

  test('When there is not enough stock, then 409 PRODUCTS.INSUFFICIENT_STOCK, no order, no events, stock unchanged', async () => {
    const [plenty, scarce] = [await product(10), await product(1)];
    const eventsBefore = (await h.events()).length;
    const ordersBefore = (await h.api.get('/api/orders?limit=100', customer.token)).body.items.length;

    const res = await placeOrder([
      { productId: plenty.id, quantity: 1 },
      { productId: scarce.id, quantity: 2 },
    ]);

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('PRODUCTS.INSUFFICIENT_STOCK');
    expect([await stockOf(plenty.id), await stockOf(scarce.id)]).toEqual([10, 1]);
    expect(await h.events()).toHaveLength(eventsBefore);
    expect((await h.api.get('/api/orders?limit=100', customer.token)).body.items).toHaveLength(ordersBefore);
  });

  test('When a product is unknown, then 404 PRODUCTS.NOT_FOUND and the other lines are not reserved', async () => {
    const mug = await product(10);
    const res = await placeOrder([
      { productId: mug.id, quantity: 1 },
      { productId: randomUUID(), quantity: 1 },
    ]);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('PRODUCTS.NOT_FOUND');
    expect(await stockOf(mug.id)).toBe(10);
  });

  test('When the same product is listed twice, then the lines are merged into one', async () => {
    const mug = await product(10, 100);
    const res = await placeOrder([
      { productId: mug.id, quantity: 2 },
      { productId: mug.id, quantity: 3 },
    ]);
    expect(res.status).toBe(201);
    expect(res.body.items).toEqual([{ productId: mug.id, quantity: 5, priceCents: 100 }]);
    expect(res.body.totalCents).toBe(500);
    expect(await stockOf(mug.id)).toBe(5);
  });

  test('When the processor cannot be reached, then 503 with the orderId, stock released, order marked payment_failed, no order events', async () => {
    const mug = await product(3);
    card.state.down = true;

    const res = await placeOrder([{ productId: mug.id, quantity: 2 }]);

    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SERVICE.UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('5');
    const orderId = res.body.orderId;
    expect(await stockOf(mug.id)).toBe(3);
    expect((await h.api.get(`/api/orders/${orderId}`, customer.token)).body.status).toBe('payment_failed');
    expect(await orderEvents(orderId)).toEqual(['product.stock_changed', 'product.stock_changed']);

    // The payment slot stays claimed by the order, so settling it later cannot charge twice.
    card.state.down = false;
    const again = await h.monolith.modules.payments.api.charge({ orderId, userId: customer.user.id, amountCents: 2500, card: { number: GOOD } });
    const retried = await h.monolith.modules.payments.api.charge({ orderId, userId: customer.user.id, amountCents: 2500, card: { number: GOOD } });
    expect(retried).toEqual(again);
  });

  test('When 20 customers order the last 5 items at once, then exactly 5 are confirmed, 15 get 409 and stock ends at 0', async () => {
    const scarce = await product(5);

    const results = await Promise.all(Array.from({ length: 20 }, () => placeOrder([{ productId: scarce.id, quantity: 1 }])));

    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'PRODUCTS.INSUFFICIENT_STOCK')).toBe(true);
    expect(await stockOf(scarce.id)).toBe(0);
    const reserved = (await h.events('product.stock_changed')).filter((e) => e.subject === scarce.id);
    expect(reserved.map((e) => e.data.stock).sort()).toEqual([0, 1, 2, 3, 4]);
    const confirmedIds = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    expect((await h.events('order.confirmed')).filter((e) => confirmedIds.has(e.data.orderId))).toHaveLength(5);
  });

  test('When there is no token or a bad one, then 401 and nothing is reserved', async () => {
    const mug = await product(10);
    const body = { items: [{ productId: mug.id, quantity: 1 }], card: { number: GOOD } };
    expect((await h.api.post('/api/orders', body)).status).toBe(401);
    const forged = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"${customer.user.id}"}`).toString('base64url')}.`;
    expect((await h.api.post('/api/orders', body, forged)).status).toBe(401);
    expect(await stockOf(mug.id)).toBe(10);
  });

  describe('validation', () => {
    let mugId: string;
    beforeAll(async () => {
      mugId = (await product(1000)).id;
    });
    const line = (quantity: unknown) => ({ productId: mugId, quantity });

    test.each([
      ['no items', () => ({ card: { number: GOOD } })],
      ['an empty item list', () => ({ items: [], card: { number: GOOD } })],
      ['51 items', () => ({ items: Array.from({ length: 51 }, () => ({ productId: randomUUID(), quantity: 1 })), card: { number: GOOD } })],
      ['a zero quantity', () => ({ items: [line(0)], card: { number: GOOD } })],
      ['a negative quantity', () => ({ items: [line(-1)], card: { number: GOOD } })],
      ['a fractional quantity', () => ({ items: [line(1.5)], card: { number: GOOD } })],
      ['a quantity given as a string', () => ({ items: [line('2')], card: { number: GOOD } })],
      ['a quantity over 1000', () => ({ items: [line(1001)], card: { number: GOOD } })],
      ['a huge quantity', () => ({ items: [line(1e300)], card: { number: GOOD } })],
      ['merged lines over 1000', () => ({ items: [line(600), line(600)], card: { number: GOOD } })],
      ['a productId that is not a uuid', () => ({ items: [{ productId: 'mug', quantity: 1 }], card: { number: GOOD } })],
      ['no card', () => ({ items: [line(1)] })],
      ['a card number failing Luhn', () => ({ items: [line(1)], card: { number: '4242424242424241' } })],
      ['a card number too short', () => ({ items: [line(1)], card: { number: '42424242' } })],
      ['a card number with letters', () => ({ items: [line(1)], card: { number: '4242abcd42424242' } })],
      ['a card number as a number', () => ({ items: [line(1)], card: { number: 4242424242424242 } })],
      ['an unknown field', () => ({ items: [line(1)], card: { number: GOOD }, coupon: 'FREE' })],
    ])('When the body has %s, then 400 VALIDATION.FAILED and no stock moves', async (_case, body) => {
      const res = await h.api.post('/api/orders', body(), customer.token);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION.FAILED');
      expect(await stockOf(mugId)).toBe(1000);
    });

    test('When the body is not JSON, then 400 HTTP.MALFORMED_JSON', async () => {
      const res = await h.api.raw('POST', '/api/orders', '{"items": [', {}, customer.token);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('HTTP.MALFORMED_JSON');
    });
  });
});

describe('GET /api/orders and /api/orders/:id', () => {
  test('When a customer lists orders, then only theirs come back, newest first, page by page', async () => {
    const buyer = await h.signUp();
    const mug = await product(10);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await placeOrder([{ productId: mug.id, quantity: 1 }], GOOD, buyer.token)).body.id);
    await placeOrder([{ productId: mug.id, quantity: 1 }], GOOD, other.token);

    const first = await h.api.get('/api/orders?limit=2', buyer.token);
    const second = await h.api.get(`/api/orders?limit=2&cursor=${first.body.nextCursor}`, buyer.token);

    expect(first.body.items.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
    expect(second.body.items.map((o: { id: string }) => o.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    expect(first.body.items.every((o: { userId: string }) => o.userId === buyer.user.id)).toBe(true);
  });

  test('When listing with a bad limit or cursor, then 400; without a token, 401', async () => {
    expect((await h.api.get('/api/orders?limit=0', customer.token)).status).toBe(400);
    expect((await h.api.get('/api/orders?cursor=xyz', customer.token)).status).toBe(400);
    expect((await h.api.get('/api/orders')).status).toBe(401);
  });

  test("When someone else's order is asked for, then 404 ORDERS.NOT_FOUND; an admin sees it", async () => {
    const mug = await product(10);
    const order = (await placeOrder([{ productId: mug.id, quantity: 1 }])).body;

    expect((await h.api.get(`/api/orders/${order.id}`, customer.token)).body).toEqual(order);
    const res = await h.api.get(`/api/orders/${order.id}`, other.token);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('ORDERS.NOT_FOUND');
    expect((await h.api.get(`/api/orders/${order.id}`, adminToken)).body.id).toBe(order.id);
  });

  test.each(['not-a-uuid', randomUUID()])('When the id is %s, then 404 ORDERS.NOT_FOUND', async (id) => {
    const res = await h.api.get(`/api/orders/${id}`, customer.token);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('ORDERS.NOT_FOUND');
  });
});

describe('POST /api/orders/:id/cancel', () => {
  test('When a customer cancels a confirmed order, then it is refunded, stock comes back and order.cancelled says customer/wasConfirmed', async () => {
    const mug = await product(10);
    const order = (await placeOrder([{ productId: mug.id, quantity: 4 }])).body;

    const res = await h.api.post(`/api/orders/${order.id}/cancel`, undefined, customer.token);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...order, status: 'cancelled' });
    expect(await stockOf(mug.id)).toBe(10);
    const payment = (await h.api.get(`/api/payments?orderId=${order.id}`, customer.token)).body.items[0];
    expect(payment.status).toBe('refunded');
    expect((await eventsOf('order.cancelled', order.id))[0].data).toMatchObject({
      orderId: order.id,
      reason: 'customer',
      status: 'cancelled',
      wasConfirmed: true,
      totalCents: order.totalCents,
      items: order.items,
    });
    expect(await eventsOf('payment.refunded', order.id)).toHaveLength(1);
    expect((await eventsOf('product.stock_changed', order.id)).map((e) => e.data.reason)).toEqual(['order_reserved', 'order_released']);
  });

  test('When an order is cancelled twice, then the second gets 409 ORDERS.NOT_CANCELLABLE and nothing is released twice', async () => {
    const mug = await product(10);
    const order = (await placeOrder([{ productId: mug.id, quantity: 2 }])).body;
    await h.api.post(`/api/orders/${order.id}/cancel`, undefined, customer.token);

    const res = await h.api.post(`/api/orders/${order.id}/cancel`, undefined, customer.token);

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ORDERS.NOT_CANCELLABLE');
    expect(await stockOf(mug.id)).toBe(10);
    expect(await eventsOf('order.cancelled', order.id)).toHaveLength(1);
  });

  test('When two cancels race, then one succeeds, the other gets 409, and there is one refund and one release', async () => {
    const mug = await product(10);
    const order = (await placeOrder([{ productId: mug.id, quantity: 2 }])).body;

    const results = await Promise.all([1, 2].map(() => h.api.post(`/api/orders/${order.id}/cancel`, undefined, customer.token)));

    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await stockOf(mug.id)).toBe(10);
    expect(await eventsOf('payment.refunded', order.id)).toHaveLength(1);
    expect(await eventsOf('order.cancelled', order.id)).toHaveLength(1);
  });

  test('When a declined order is cancelled, then 409 ORDERS.NOT_CANCELLABLE', async () => {
    const mug = await product(10);
    const { orderId } = (await placeOrder([{ productId: mug.id, quantity: 1 }], DECLINED)).body;
    const res = await h.api.post(`/api/orders/${orderId}/cancel`, undefined, customer.token);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ORDERS.NOT_CANCELLABLE');
  });

  test("When someone else's order is cancelled, then 404 and it stays confirmed; without a token, 401", async () => {
    const mug = await product(10);
    const order = (await placeOrder([{ productId: mug.id, quantity: 1 }])).body;
    expect((await h.api.post(`/api/orders/${order.id}/cancel`, undefined, other.token)).body.code).toBe('ORDERS.NOT_FOUND');
    expect((await h.api.post(`/api/orders/${order.id}/cancel`)).status).toBe(401);
    expect((await h.api.post('/api/orders/nope/cancel', undefined, customer.token)).status).toBe(404);
    expect((await h.api.get(`/api/orders/${order.id}`, customer.token)).body.status).toBe('confirmed');
  });
});
