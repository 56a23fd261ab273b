import { randomUUID } from 'node:crypto';
import { processOnce } from '@banyan/inbox';
import type { EventEnvelope } from '@banyan/events';
import { CALLER_TOKEN, observedProcessor, startPaymentsService, type PaymentsServiceHarness } from './support';
import { tokenIssuer } from './tokens';

const GOOD = '4242 4242 4242 4242';
const DECLINED = '4000000000000002';

let svc: PaymentsServiceHarness;
let issuer: Awaited<ReturnType<typeof tokenIssuer>>;
const card = observedProcessor();
const payer = randomUUID();

beforeAll(async () => {
  issuer = await tokenIssuer();
  svc = await startPaymentsService('payments_svc', { verifier: issuer.verifier, cardProcessor: card.processor });
});
afterAll(() => svc.close());
beforeEach(() => {
  Object.assign(card.state, { down: false, delayMs: 0, charges: 0 });
});

const charge = (orderId: string, number = GOOD, amountCents = 1500, token = CALLER_TOKEN) =>
  svc.api.post('/api/payments/charges', { orderId, userId: payer, amountCents, card: { number } }, token);
const refund = (orderId: string, token = CALLER_TOKEN) => svc.api.post('/api/payments/refunds', { orderId }, token);
const cancel = (orderId: string, token = CALLER_TOKEN) => svc.api.post('/api/payments/cancellations', { orderId }, token);
const row = (orderId: string) => svc.db.knex('payments.payments').where({ order_id: orderId }).first();

describe('the internal API the monolith’s payments door calls', () => {
  test('When the caller presents no credential or a customer’s token, then 401 and nothing is charged', async () => {
    const orderId = randomUUID();
    expect((await charge(orderId, GOOD, 1500, '')).status).toBe(401);
    const asCustomer = await charge(orderId, GOOD, 1500, await issuer.sign(payer));
    expect(asCustomer.status).toBe(401);
    expect(asCustomer.body.code).toBe('AUTH.UNAUTHORIZED');
    expect((await refund(orderId, await issuer.sign(payer, 'admin'))).status).toBe(401);
    expect(card.state.charges).toBe(0);
    expect(await row(orderId)).toBeUndefined();
  });

  test('When a good card is charged twice for one order, then one capture, one processor charge, one payment.captured from origin payments-service', async () => {
    const orderId = randomUUID();
    const first = await charge(orderId);
    const second = await charge(orderId);

    expect(first.status).toBe(200);
    expect(first.body).toEqual({ paymentId: expect.any(String), status: 'captured' });
    expect(second.body).toEqual(first.body);
    expect(card.state.charges).toBe(1);
    const events = (await svc.events('payment.captured')).filter((e) => e.data.orderId === orderId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ origin: 'payments-service', sequence: 1, subject: first.body.paymentId });
    expect(events[0].data).toMatchObject({ userId: payer, cardLast4: '4242', amountCents: 1500 });
    expect(Number((await row(orderId)).version)).toBe(1);
  });

  test('When the card is 4000…0002, then the answer is declined (a result, not an error) and payment.declined is published', async () => {
    const orderId = randomUUID();
    const res = await charge(orderId, DECLINED);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ paymentId: expect.any(String), status: 'declined', reason: 'card_declined' });
    expect((await svc.events('payment.declined')).filter((e) => e.data.orderId === orderId)).toHaveLength(1);
  });

  test('When the processor is down, then 503 SERVICE.UNAVAILABLE with Retry-After, and a later retry charges once', async () => {
    const orderId = randomUUID();
    card.state.down = true;
    const failed = await charge(orderId);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('content-type')).toContain('application/problem+json');
    expect(failed.body.code).toBe('SERVICE.UNAVAILABLE');
    expect(failed.headers.get('retry-after')).toBe('5');
    expect((await row(orderId)).status).toBe('pending');

    card.state.down = false;
    expect((await charge(orderId)).body.status).toBe('captured');
    expect((await svc.events('payment.captured')).filter((e) => e.data.orderId === orderId)).toHaveLength(1);
  });

  test('When a captured payment is refunded twice, then refunded once (sequence 2); unknown → 404, declined → 409', async () => {
    const orderId = randomUUID();
    const { paymentId } = (await charge(orderId)).body;
    const first = await refund(orderId);
    expect(first.body).toEqual({ paymentId, status: 'refunded' });
    expect((await refund(orderId)).body).toEqual(first.body);
    const refunded = (await svc.events('payment.refunded')).filter((e) => e.data.orderId === orderId);
    expect(refunded.map((e) => e.sequence)).toEqual([2]);

    const unknown = await refund(randomUUID());
    expect([unknown.status, unknown.body.code]).toEqual([404, 'PAYMENTS.NOT_FOUND']);
    const declinedOrder = randomUUID();
    await charge(declinedOrder, DECLINED);
    const notRefundable = await refund(declinedOrder);
    expect([notRefundable.status, notRefundable.body.code]).toEqual([409, 'PAYMENTS.NOT_REFUNDABLE']);
  });

  test('POST /cancellations: a pending claim the processor charged is recorded captured then refunded; one it did not is declined `cancelled`; no payment → none; only the caller', async () => {
    const charged = randomUUID();
    // The processor takes the money; the service never records the answer (it died, say).
    await svc.db.knex('payments.payments').insert({ id: randomUUID(), order_id: charged, user_id: payer, amount_cents: 900, status: 'pending', card_last4: '4242' });
    await card.processor.charge({ amountCents: 900, cardNumber: GOOD, idempotencyKey: `charge:${charged}` });
    const undone = await cancel(charged);
    expect(undone.status).toBe(200);
    expect(undone.body).toEqual({ paymentId: expect.any(String), status: 'refunded' });
    expect((await svc.events()).filter((e) => e.data.orderId === charged).map((e) => e.type)).toEqual(['payment.captured', 'payment.refunded']);
    expect((await cancel(charged)).body).toEqual(undone.body);

    const never = randomUUID();
    await svc.db.knex('payments.payments').insert({ id: randomUUID(), order_id: never, user_id: payer, amount_cents: 900, status: 'pending', card_last4: '4242' });
    expect((await cancel(never)).body).toEqual({ paymentId: expect.any(String), status: 'declined' });
    expect((await row(never)).decline_reason).toBe('cancelled');

    expect((await cancel(randomUUID())).body).toEqual({ status: 'none' });
    const captured = randomUUID();
    await charge(captured);
    expect((await cancel(captured)).body.status).toBe('refunded');
    expect((await cancel(randomUUID(), await issuer.sign(payer))).status).toBe(401);
  });

  test('When the body is not a charge, then 400 VALIDATION.FAILED', async () => {
    const res = await svc.api.post('/api/payments/charges', { orderId: 'nope', amountCents: -1 }, CALLER_TOKEN);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION.FAILED']);
  });
});

describe('the public contract, as the module served it', () => {
  test('When the payer, an admin and a stranger read a payment, then the first two see it and the stranger gets 404', async () => {
    const orderId = randomUUID();
    const { paymentId } = (await charge(orderId, GOOD, 2100)).body;
    const view = { id: paymentId, orderId, amountCents: 2100, status: 'captured' };

    const mine = await svc.api.get(`/api/payments?orderId=${orderId}`, await issuer.sign(payer));
    expect(mine.body).toEqual({ items: [view], nextCursor: null });
    expect((await svc.api.get(`/api/payments/${paymentId}`, await issuer.sign(randomUUID(), 'admin'))).body).toEqual(view);
    const stranger = await svc.api.get(`/api/payments/${paymentId}`, await issuer.sign(randomUUID()));
    expect([stranger.status, stranger.body.code]).toEqual([404, 'PAYMENTS.NOT_FOUND']);
    expect((await svc.api.get(`/api/payments/${paymentId}`)).status).toBe(401);
  });
});

describe('applying the monolith’s payment events (two-way sync)', () => {
  const subscription = (type: string) => svc.service.definition.subscriptions!.find((s) => s.eventType === type)!;
  const deliver = (event: EventEnvelope<any>) => processOnce(svc.db.knex, subscription(event.type).consumer, event, subscription(event.type).handle);
  const envelope = (type: string, sequence: number, data: Record<string, unknown>, origin = 'monolith'): EventEnvelope<any> => ({
    specversion: '1.0',
    id: randomUUID(),
    source: '/banyan/monolith',
    type,
    subject: data.paymentId as string,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    sequence,
    origin,
    data,
  });

  test('When the monolith captured then refunded a payment, then the service holds it at version 2, and the redelivered capture changes nothing', async () => {
    const paymentId = randomUUID();
    const orderId = randomUUID();
    const data = { paymentId, orderId, amountCents: 700, userId: payer, cardLast4: '4242', processorReference: 'ch_x' };
    const captured = envelope('payment.captured', 1, data);

    await deliver(captured);
    await deliver(envelope('payment.refunded', 2, data));
    await deliver({ ...captured, id: randomUUID() });

    expect(await row(orderId)).toMatchObject({ id: paymentId, status: 'refunded', version: '2', user_id: payer, processor_reference: 'ch_x' });
    // The next own event on this payment continues the shared history.
    const { rows } = await svc.db.knex.raw("SELECT last_sequence FROM outbox.aggregate_sequences WHERE aggregate_type = 'payments' AND aggregate_id = ?", [paymentId]);
    expect(Number(rows[0].last_sequence)).toBe(2);
    expect((await svc.events()).filter((e) => e.data.orderId === orderId)).toEqual([]);
  });

  test('When the service’s own event comes back from the exchange, then it is skipped (no echo)', async () => {
    const orderId = randomUUID();
    const { paymentId } = (await charge(orderId)).body;
    await deliver(envelope('payment.refunded', 2, { paymentId, orderId, amountCents: 1500, userId: payer, cardLast4: '4242' }, 'payments-service'));
    expect((await row(orderId)).status).toBe('captured');
  });

  test('When the service holds a pending claim and the monolith’s answer for that order arrives, then the answer replaces the claim', async () => {
    const orderId = randomUUID();
    card.state.down = true;
    await charge(orderId);
    const paymentId = randomUUID();
    await deliver(envelope('payment.declined', 1, { paymentId, orderId, amountCents: 1500, reason: 'card_declined', userId: payer, cardLast4: '0002' }));
    expect(await row(orderId)).toMatchObject({ id: paymentId, status: 'declined', decline_reason: 'card_declined', version: '1' });
  });
});
