import { randomUUID } from 'node:crypto';
import { observedProcessor } from '@banyan/card-processor';
import { startMonolith, type MonolithHarness } from './support/harness';

/**
 * `Idempotency-Key` on POST /api/orders (the contract; ADR 0313), against a real monolith and
 * database. The card processor is the test fake behind a gate (@banyan/card-processor's
 * observedProcessor), so a test can hold a charge open and count every charge that reached it.
 */
const GOOD = '4242424242424242';
const DECLINED = '4000000000000002';

let h: MonolithHarness;
const card = observedProcessor();
let adminToken: string;
let customer: { token: string; user: { id: string } };

beforeAll(async () => {
  h = await startMonolith('orders_idem', { cardProcessor: card.processor });
  adminToken = (await h.admin()).token;
  customer = await h.signUp();
});
afterAll(() => h.close());

async function product(stock = 10): Promise<string> {
  const res = await h.api.post('/api/products', { sku: `IDEM-${randomUUID()}`, name: 'Thing', priceCents: 900, stock }, adminToken);
  if (res.status !== 201) throw new Error(res.text);
  return res.body.id;
}
const order = (productId: string, key: string | undefined, options: { quantity?: number; number?: string; token?: string } = {}) =>
  h.api.post(
    '/api/orders',
    { items: [{ productId, quantity: options.quantity ?? 1 }], card: { number: options.number ?? GOOD } },
    options.token ?? customer.token,
    key === undefined ? {} : { 'idempotency-key': key },
  );
const stockOf = async (id: string) => (await h.api.get(`/api/products/${id}`)).body.stock as number;
const ordersOf = async (productId: string) => (await h.db.knex('orders.order_items').where({ product_id: productId }).count<{ count: string }[]>('* as count'))[0].count;

describe('Idempotency-Key on POST /api/orders', () => {
  test('When the same key is sent twice with the same order, then both answers are the same order, the second marked replayed, one charge, stock taken once', async () => {
    const id = await product(10);
    const key = randomUUID();
    const charges = card.state.charges;

    const first = await order(id, key, { quantity: 2 });
    const second = await order(id, key, { quantity: 2 });

    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.body).toEqual(first.body);
    expect(card.state.charges - charges).toBe(1);
    expect(await stockOf(id)).toBe(8);
    expect(await ordersOf(id)).toBe('1');
  });

  test('When a key is reused with another order, then 422 ORDERS.IDEMPOTENCY_KEY_REUSED and nothing is placed or charged', async () => {
    const id = await product(10);
    const key = randomUUID();
    expect((await order(id, key)).status).toBe(201);
    const charges = card.state.charges;

    const other = await order(id, key, { quantity: 3 });

    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(other.body.code).toBe('ORDERS.IDEMPOTENCY_KEY_REUSED');
    expect(card.state.charges).toBe(charges);
    expect(await stockOf(id)).toBe(9);
  });

  test('When the same key arrives while the first order is still being charged, then 409 ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT with Retry-After, and once the first is done the key answers its order', async () => {
    const id = await product(10);
    const key = randomUUID();
    let release!: () => void;
    card.state.hold = new Promise<void>((r) => (release = r));
    const charges = card.state.charges;
    try {
      const first = order(id, key);
      while (card.state.charges === charges) await new Promise((r) => setTimeout(r, 5));

      const during = await order(id, key);
      expect(during.status).toBe(409);
      expect(during.body.code).toBe('ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT');
      expect(during.headers.get('retry-after')).toBe('1');

      release();
      const placed = await first;
      const after = await order(id, key);
      expect(placed.status).toBe(201);
      expect(after.status).toBe(201);
      expect(after.body.id).toBe(placed.body.id);
      expect(card.state.charges - charges).toBe(1);
    } finally {
      card.state.hold = undefined;
      release?.();
    }
  });

  test('When 20 requests with one key arrive at once, then exactly one order is placed and charged, and every other answer is that order or 409', async () => {
    const id = await product(100);
    const key = randomUUID();
    const charges = card.state.charges;

    const answers = await Promise.all(Array.from({ length: 20 }, () => order(id, key)));

    const placed = answers.filter((a) => a.status === 201);
    expect(placed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(placed.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.status !== 201).every((a) => a.status === 409 && a.body.code === 'ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT')).toBe(true);
    expect(card.state.charges - charges).toBe(1);
    expect(await stockOf(id)).toBe(99);
    expect(await ordersOf(id)).toBe('1');
  });

  test('When the card is declined under a key, then the retry with that key gets the same decline and the card is not tried again', async () => {
    const id = await product(10);
    const key = randomUUID();
    const charges = card.state.charges;

    const first = await order(id, key, { number: DECLINED });
    const again = await order(id, key, { number: DECLINED });

    expect(first.status).toBe(402);
    expect(again.status).toBe(402);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect({ code: again.body.code, orderId: again.body.orderId, reason: again.body.reason }).toEqual({ code: 'PAYMENTS.DECLINED', orderId: first.body.orderId, reason: first.body.reason });
    expect(card.state.charges - charges).toBe(1);
    expect(await stockOf(id)).toBe(10);
  });

  test('When the first try fails before any order counts (not enough stock), then the key is given back and a retry with it after a restock places the order', async () => {
    const id = await product(1);
    const key = randomUUID();

    const short = await order(id, key, { quantity: 2 });
    expect(short.status).toBe(409);
    expect(short.body.code).toBe('PRODUCTS.INSUFFICIENT_STOCK');
    expect((await h.api.post(`/api/products/${id}/stock`, { delta: 5 }, adminToken)).status).toBe(200);

    const retried = await order(id, key, { quantity: 2 });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await stockOf(id)).toBe(4);
  });

  test('When another customer sends the same key, then it is their own key: a separate order', async () => {
    const id = await product(10);
    const key = randomUUID();
    const someoneElse = await h.signUp();

    const mine = await order(id, key);
    const theirs = await order(id, key, { token: someoneElse.token });

    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.userId).toBe(someoneElse.user.id);
  });

  test('When the key is empty, too long or not visible ASCII, then 400 VALIDATION.FAILED names the header and nothing is placed; a quoted key is the key inside the quotes', async () => {
    const id = await product(10);
    for (const bad of ['', 'x'.repeat(256), 'clé-1', 'a b']) {
      const res = await order(id, bad);
      expect({ bad, status: res.status, code: res.body.code, path: res.body.errors?.[0]?.path }).toEqual({ bad, status: 400, code: 'VALIDATION.FAILED', path: 'Idempotency-Key' });
    }
    expect(await stockOf(id)).toBe(10);

    const key = randomUUID();
    const quoted = await order(id, `"${key}"`);
    const bare = await order(id, key);
    expect(bare.headers.get('idempotent-replayed')).toBe('true');
    expect(bare.body.id).toBe(quoted.body.id);
  });

  test('When a checkout died holding a key (still running after two minutes), then its order decides: a confirmed one is answered, none frees the key', async () => {
    const id = await product(10);
    const placed = await order(id, undefined);
    expect(placed.status).toBe(201);
    const user = customer.user.id;
    const fingerprintOfOne = async (key: string) => {
      // The fingerprint of "one of this product, this card": taken from a key placed normally.
      const probe = await order(id, key);
      return { row: await h.db.knex('orders.idempotency_keys').where({ user_id: user, key }).first(), probe };
    };
    const { row } = await fingerprintOfOne(randomUUID());
    const stock = await stockOf(id);

    // A dead checkout whose order was confirmed: the key is answered with that order.
    const confirmedKey = randomUUID();
    await h.db.knex('orders.idempotency_keys').insert({ user_id: user, key: confirmedKey, fingerprint: row.fingerprint, order_id: placed.body.id, state: 'running', created_at: h.db.knex.raw("now() - interval '3 minutes'") });
    const charges = card.state.charges;
    const answered = await order(id, confirmedKey);
    expect(answered.status).toBe(201);
    expect(answered.body.id).toBe(placed.body.id);
    expect(answered.headers.get('idempotent-replayed')).toBe('true');
    expect(card.state.charges).toBe(charges);
    expect(await stockOf(id)).toBe(stock);

    // A dead checkout that never wrote its order: the key is free again and places one.
    const lostKey = randomUUID();
    await h.db.knex('orders.idempotency_keys').insert({ user_id: user, key: lostKey, fingerprint: row.fingerprint, order_id: randomUUID(), state: 'running', created_at: h.db.knex.raw("now() - interval '3 minutes'") });
    const fresh = await order(id, lostKey);
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect(await stockOf(id)).toBe(stock - 1);
  });
});
