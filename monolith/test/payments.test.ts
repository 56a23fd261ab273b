import { randomUUID } from 'node:crypto';
import { testCardProcessor, type CardProcessor } from '../src/modules/payments';
import { startMonolith, type MonolithHarness } from './support/harness';

const GOOD = '4242424242424242';
const DECLINED = '4000000000000002';
const NO_FUNDS = '4000000000009995';

/** The test-card fake behind a switch: what the processor is asked, and whether it can be reached. */
function switchableProcessor() {
  const inner = testCardProcessor();
  const state = { down: false, charges: 0, refunds: 0 };
  const processor: CardProcessor = {
    async charge(request) {
      if (state.down) throw new Error('ECONNREFUSED card processor');
      state.charges++;
      return inner.charge(request);
    },
    async refund(request) {
      if (state.down) throw new Error('ECONNREFUSED card processor');
      state.refunds++;
      return inner.refund(request);
    },
    cancel: (request) => inner.cancel(request),
  };
  return { processor, state };
}

let h: MonolithHarness;
const card = switchableProcessor();
let payer: { token: string; user: { id: string } };
let stranger: { token: string };
let adminToken: string;

beforeAll(async () => {
  h = await startMonolith('payments', { cardProcessor: card.processor });
  payer = await h.signUp();
  stranger = await h.signUp();
  adminToken = (await h.admin()).token;
});
afterAll(() => h.close());
beforeEach(() => {
  card.state.down = false;
});

const door = () => h.monolith.modules.payments.api;
const charge = (number = GOOD, orderId = randomUUID(), amountCents = 2500) =>
  door().charge({ orderId, userId: payer.user.id, amountCents, card: { number } });
const eventsFor = async (type: string, orderId: string) => (await h.events(type)).filter((e) => e.data.orderId === orderId);

describe('the test card processor', () => {
  const processor = testCardProcessor();
  test.each([
    [GOOD, true, undefined],
    ['5555 5555 5555 4444', true, undefined],
    [DECLINED, false, 'card_declined'],
    [NO_FUNDS, false, 'insufficient_funds'],
    ['4242424242424241', false, 'invalid_number'],
  ])('When charging %s, then approved is %s (%s)', async (cardNumber, approved, declineReason) => {
    const result = await processor.charge({ amountCents: 100, cardNumber, idempotencyKey: randomUUID() });
    expect(result.approved).toBe(approved);
    expect(result.declineReason).toBe(declineReason);
    if (approved) expect(result.reference).toEqual(expect.any(String));
  });

  test('When the same idempotency key is charged twice, then the first answer comes back', async () => {
    const key = randomUUID();
    const first = await processor.charge({ amountCents: 100, cardNumber: GOOD, idempotencyKey: key });
    expect(await processor.charge({ amountCents: 100, cardNumber: GOOD, idempotencyKey: key })).toEqual(first);
  });
});

describe('charging through the payments door', () => {
  test('When a good card is charged, then the payment is captured and payment.captured is published', async () => {
    const orderId = randomUUID();
    const outcome = await charge(GOOD, orderId, 4200);

    expect(outcome).toEqual({ paymentId: expect.any(String), status: 'captured' });
    const [event] = await eventsFor('payment.captured', orderId);
    expect(event.subject).toBe(outcome.paymentId);
    // userId, cardLast4 and processorReference let the extracted service rebuild the row (two-way sync).
    expect(event.data).toEqual({
      paymentId: outcome.paymentId,
      orderId,
      amountCents: 4200,
      userId: expect.any(String),
      cardLast4: '4242',
      processorReference: expect.stringMatching(/^ch_/),
    });
  });

  test.each([
    [DECLINED, 'card_declined'],
    [NO_FUNDS, 'insufficient_funds'],
  ])('When card %s is charged, then the payment is declined (%s) and payment.declined is published', async (number, reason) => {
    const orderId = randomUUID();
    const outcome = await charge(number, orderId);

    expect(outcome).toEqual({ paymentId: expect.any(String), status: 'declined', reason });
    expect((await eventsFor('payment.declined', orderId)).map((e) => e.data.reason)).toEqual([reason]);
    expect(await eventsFor('payment.captured', orderId)).toHaveLength(0);
  });

  test('When the same order is charged twice, then one payment, one charge at the processor and one event', async () => {
    const orderId = randomUUID();
    const before = card.state.charges;
    const first = await charge(GOOD, orderId);
    const second = await charge(GOOD, orderId);

    expect(second).toEqual(first);
    expect(card.state.charges - before).toBe(1);
    expect(await h.db.knex('payments.payments').where({ order_id: orderId })).toHaveLength(1);
    expect(await eventsFor('payment.captured', orderId)).toHaveLength(1);
  });

  test('When the same order is charged ten times at once, then there is still one payment and one event', async () => {
    const orderId = randomUUID();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => charge(GOOD, orderId)));

    expect(new Set(outcomes.map((o) => `${o.status}:${o.paymentId}`)).size).toBe(1);
    expect(outcomes[0].status).toBe('captured');
    expect(await h.db.knex('payments.payments').where({ order_id: orderId })).toHaveLength(1);
    expect(await eventsFor('payment.captured', orderId)).toHaveLength(1);
  });

  test('When the processor is down, then 503 SERVICE.UNAVAILABLE and no event; charging again later captures once', async () => {
    const orderId = randomUUID();
    card.state.down = true;
    await expect(charge(GOOD, orderId)).rejects.toMatchObject({ code: 'SERVICE.UNAVAILABLE', status: 503 });
    expect(await eventsFor('payment.captured', orderId)).toHaveLength(0);

    card.state.down = false;
    const outcome = await charge(GOOD, orderId);
    expect(outcome.status).toBe('captured');
    expect(await eventsFor('payment.captured', orderId)).toHaveLength(1);
  });

  test('When a payment is stored, then the card number is not (only its last four digits)', async () => {
    const orderId = randomUUID();
    await charge(GOOD, orderId);
    const row = await h.db.knex('payments.payments').where({ order_id: orderId }).first();
    expect(JSON.stringify(row)).not.toContain(GOOD);
    expect(row.card_last4).toBe('4242');
  });
});

describe('refunding through the payments door', () => {
  test('When a captured payment is refunded, then it is refunded and payment.refunded is published once, however often it is asked', async () => {
    const orderId = randomUUID();
    const { paymentId } = await charge(GOOD, orderId, 990);
    const first = await door().refund(orderId);
    const second = await door().refund(orderId);

    expect(first).toEqual({ paymentId, status: 'refunded' });
    expect(second).toEqual(first);
    expect((await eventsFor('payment.refunded', orderId)).map((e) => e.data)).toEqual([
      { paymentId, orderId, amountCents: 990, userId: expect.any(String), cardLast4: '4242', processorReference: expect.stringMatching(/^ch_/) },
    ]);
    const view = await h.api.get(`/api/payments/${paymentId}`, payer.token);
    expect(view.body.status).toBe('refunded');
  });

  test('When a declined payment is refunded, then PAYMENTS.NOT_REFUNDABLE; an unknown order, PAYMENTS.NOT_FOUND', async () => {
    const orderId = randomUUID();
    await charge(DECLINED, orderId);
    await expect(door().refund(orderId)).rejects.toMatchObject({ code: 'PAYMENTS.NOT_REFUNDABLE', status: 409 });
    await expect(door().refund(randomUUID())).rejects.toMatchObject({ code: 'PAYMENTS.NOT_FOUND', status: 404 });
  });

  test('When the processor is down during a refund, then 503 and the payment stays captured', async () => {
    const orderId = randomUUID();
    const { paymentId } = await charge(GOOD, orderId);
    card.state.down = true;
    await expect(door().refund(orderId)).rejects.toMatchObject({ code: 'SERVICE.UNAVAILABLE' });
    expect((await h.api.get(`/api/payments/${paymentId}`, payer.token)).body.status).toBe('captured');
    expect(await eventsFor('payment.refunded', orderId)).toHaveLength(0);
  });
});

describe('GET /api/payments/:id and ?orderId=', () => {
  test('When the payer asks, then the payment comes back in the contract shape, by id and by order', async () => {
    const orderId = randomUUID();
    const { paymentId } = await charge(GOOD, orderId, 1234);
    const expected = { id: paymentId, orderId, amountCents: 1234, status: 'captured' };

    const byId = await h.api.get(`/api/payments/${paymentId}`, payer.token);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(expected);
    const byOrder = await h.api.get(`/api/payments?orderId=${orderId}`, payer.token);
    expect(byOrder.status).toBe(200);
    expect(byOrder.body).toEqual({ items: [expected], nextCursor: null });
  });

  test('When an admin asks for someone else\'s payment, then it is shown', async () => {
    const orderId = randomUUID();
    const { paymentId } = await charge(GOOD, orderId);
    expect((await h.api.get(`/api/payments/${paymentId}`, adminToken)).status).toBe(200);
    expect((await h.api.get(`/api/payments?orderId=${orderId}`, adminToken)).body.items).toHaveLength(1);
  });

  test('When another customer asks, then 404 PAYMENTS.NOT_FOUND, by id and by order', async () => {
    const orderId = randomUUID();
    const { paymentId } = await charge(GOOD, orderId);
    const byId = await h.api.get(`/api/payments/${paymentId}`, stranger.token);
    expect(byId.status).toBe(404);
    expect(byId.body.code).toBe('PAYMENTS.NOT_FOUND');
    expect((await h.api.get(`/api/payments?orderId=${orderId}`, stranger.token)).body.code).toBe('PAYMENTS.NOT_FOUND');
  });

  test('When there is no token or a bad one, then 401', async () => {
    const { paymentId } = await charge();
    expect((await h.api.get(`/api/payments/${paymentId}`)).status).toBe(401);
    expect((await h.api.get(`/api/payments/${paymentId}`, 'not.a.jwt')).status).toBe(401);
  });

  test.each(['not-a-uuid', randomUUID()])('When the id is %s, then 404 PAYMENTS.NOT_FOUND', async (id) => {
    const res = await h.api.get(`/api/payments/${id}`, payer.token);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('PAYMENTS.NOT_FOUND');
  });

  test.each(['', '?orderId=', '?orderId=nope'])('When the query is "%s", then 400 VALIDATION.FAILED', async (query) => {
    const res = await h.api.get(`/api/payments${query}`, payer.token);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION.FAILED');
  });
});
