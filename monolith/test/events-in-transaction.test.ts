import { eventually } from '@banyan/testing';
import { startMonolith, type MonolithHarness } from './support/harness';

/**
 * The outbox's one promise, checked for every kind of state change at once: a shop's worth of use
 * cases runs through HTTP (register, create, patch and restock a product, order with a good and
 * a declined card, cancel, the confirmation emails sent), and then, for every aggregate an event
 * was written for, the row that holds its state was last written by the same transaction as its
 * latest event: PostgreSQL's `xmin` of the row equals the event's `txid` (pg_current_xact_id()).
 * A module that wrote its event in a transaction of its own, before or after the change, fails.
 */
let h: MonolithHarness;

beforeAll(async () => {
  h = await startMonolith('events_in_tx');
});
afterAll(() => h.close());

/** Where each aggregate's state lives, by the first word of its event types. */
const STATE_TABLES: Record<string, string> = {
  user: 'users.users',
  product: 'products.products',
  order: 'orders.orders',
  payment: 'payments.payments',
  notification: 'notifications.notifications',
};

test('Every event is written in the transaction that made the change it describes, for every event type the shop writes', async () => {
  const admin = await h.admin();
  const customer = await h.signUp({ name: 'Grace Hopper' });
  const created = await h.api.post('/api/products', { sku: `TX-${Date.now()}`, name: 'Teapot', priceCents: 2500, stock: 10 }, admin.token);
  expect(created.status).toBe(201);
  const productId = created.body.id as string;
  // Two more products whose latest events are their creation and their edit, so every type is some aggregate's latest.
  expect((await h.api.post('/api/products', { sku: `TX-NEW-${Date.now()}`, name: 'Cup', priceCents: 900, stock: 1 }, admin.token)).status).toBe(201);
  const edited = await h.api.post('/api/products', { sku: `TX-EDIT-${Date.now()}`, name: 'Saucer', priceCents: 700, stock: 1 }, admin.token);
  expect((await h.api.patch(`/api/products/${edited.body.id}`, { name: 'Saucer, white' }, admin.token)).status).toBe(200);
  expect((await h.api.patch(`/api/products/${productId}`, { name: 'Teapot, blue' }, admin.token)).status).toBe(200);
  expect((await h.api.post(`/api/products/${productId}/stock`, { delta: 5 }, admin.token)).status).toBe(200);
  const order = (card: string) => h.api.post('/api/orders', { items: [{ productId, quantity: 2 }], card: { number: card } }, customer.token);
  const confirmed = await order('4242424242424242');
  expect(confirmed.status).toBe(201);
  expect((await order('4000000000000002')).status).toBe(402);
  const cancelled = await order('4242424242424242');
  expect((await h.api.post(`/api/orders/${cancelled.body.id}/cancel`, {}, customer.token)).status).toBe(200);
  // The emails: order.created reaches the notifications module through the inbox, as from the broker.
  await h.deliverEvents();
  await eventually(async () => (await h.events('notification.sent')).length, { until: (n) => n === 3, timeoutMs: 10_000, what: 'three notification.sent events' });

  const events = await h.events();
  const latest = new Map<string, { table: string; subject: string; id: string; type: string }>();
  for (const event of events) {
    const table = STATE_TABLES[event.type.split('.')[0]];
    expect({ type: event.type, table: table ?? 'a state table for this event type' }).toEqual({ type: event.type, table: expect.any(String) });
    latest.set(`${table}/${event.subject}`, { table, subject: event.subject, id: event.id, type: event.type });
  }
  // Every type this flow can write is checked below: each is the latest event of some aggregate,
  // except order.created, which is written when the order is settled, with order.confirmed or
  // order.cancelled (a failed order never happened for subscribers): it is checked against the
  // row of each order that settlement left as it was (not cancelled later by the customer); and
  // user.registered, written with user.account_changed in the registration's transaction (checked
  // against that event's transaction below).
  expect(new Set([...[...latest.values()].map((l) => l.type), 'order.created', 'user.registered'])).toEqual(
    new Set([
      'user.registered', 'user.account_changed', 'product.created', 'product.updated', 'product.stock_changed',
      'order.created', 'order.confirmed', 'order.cancelled', 'payment.captured', 'payment.declined', 'payment.refunded', 'notification.sent',
    ]),
  );

  const mismatched: string[] = [];
  for (const { table, subject, id, type } of latest.values()) {
    const { rows } = await h.db.knex.raw<{ rows: Array<{ same: boolean }> }>(
      `SELECT (o.txid::text::numeric % 4294967296) = s.xmin::text::numeric AS same
         FROM outbox.events o, ${table} s WHERE o.id = ? AND s.id = ?`,
      [id, subject],
    );
    if (rows.length !== 1 || !rows[0].same) mismatched.push(`${type} ${subject} (${table}): ${rows.length ? 'another transaction' : 'no row'}`);
  }
  const settledOnly = events.filter((e) => e.type === 'order.created' && e.subject !== cancelled.body.id);
  expect(settledOnly.length).toBe(2);
  for (const { id, subject } of settledOnly) {
    const { rows } = await h.db.knex.raw<{ rows: Array<{ same: boolean }> }>(
      `SELECT (o.txid::text::numeric % 4294967296) = s.xmin::text::numeric AS same
         FROM outbox.events o, orders.orders s WHERE o.id = ? AND s.id = ?`,
      [id, subject],
    );
    if (rows.length !== 1 || !rows[0].same) mismatched.push(`order.created ${subject} (orders.orders): ${rows.length ? 'another transaction' : 'no row'}`);
  }
  // Each registration's user.registered and its first user.account_changed share one transaction.
  const registrations = events.filter((e) => e.type === 'user.registered');
  expect(registrations.length).toBeGreaterThanOrEqual(2);
  for (const registered of registrations) {
    const { rows } = await h.db.knex.raw<{ rows: Array<{ same: boolean }> }>(
      `SELECT r.txid = c.txid AS same FROM outbox.events r, outbox.events c
        WHERE r.id = ? AND c.aggregate_id = r.aggregate_id AND c.type = 'user.account_changed' AND c.sequence = r.sequence + 1`,
      [registered.id],
    );
    if (rows.length !== 1 || !rows[0].same) mismatched.push(`user.registered ${registered.subject}: ${rows.length ? 'another transaction' : 'no account_changed after it'}`);
  }
  expect(mismatched).toEqual([]);
  expect(latest.size).toBeGreaterThanOrEqual(10);
});
