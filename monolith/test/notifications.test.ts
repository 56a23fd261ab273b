/**
 * Notifications through the whole monolith: a real order over HTTP, its events delivered through
 * the inbox the way the RabbitMQ consumer delivers them, the email received by a real SMTP server.
 */
import { randomUUID } from 'node:crypto';
import { eventSchemas } from '@banyan/events';
import { processOnce } from '@banyan/inbox';
import { eventually } from '@banyan/testing';
import { startMonolith, type MonolithHarness } from './support/harness';

const GOOD = '4242424242424242';
const DECLINED = '4000000000000002';

let h: MonolithHarness;
let adminToken: string;

beforeAll(async () => {
  h = await startMonolith('notifications');
  adminToken = (await h.admin()).token;
});
afterAll(() => h.close());

async function product(priceCents = 1250): Promise<{ id: string }> {
  const res = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Teapot', priceCents, stock: 100 }, adminToken);
  if (res.status !== 201) throw new Error(res.text);
  return res.body;
}

const mailsTo = (email: string) => h.smtp.mails.filter((m) => m.to.includes(email));
const shortId = (orderId: string) => orderId.replace(/-/g, '').slice(-8).toUpperCase();

describe('order confirmation emails', () => {
  test('When a customer orders with a good card, then they receive the confirmation email, see it as sent, and notification.sent is published', async () => {
    const customer = await h.signUp();
    const teapot = await product(1250);
    const placed = await h.api.post('/api/orders', { items: [{ productId: teapot.id, quantity: 2 }], card: { number: GOOD } }, customer.token);
    expect(placed.status).toBe(201);

    await h.deliverEvents();

    const [mail] = await eventually(async () => mailsTo(customer.user.email), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    expect(mail.subject).toBe(`Order confirmed: #${shortId(placed.body.id)}`);
    expect(mail.text).toContain('Total: 25.00');
    const list = await eventually(
      () => h.api.get('/api/notifications', customer.token),
      { until: (res) => res.body.items?.[0]?.status === 'sent', timeoutMs: 10_000 },
    );
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      items: [{ id: expect.any(String), channel: 'email', to: customer.user.email, subject: mail.subject, status: 'sent', createdAt: expect.any(String) }],
      nextCursor: null,
    });
    const notificationId = list.body.items[0].id;
    expect(mail.messageId).toBe(`<${notificationId}@banyan.local>`);
    const sent = (await h.events('notification.sent')).filter((e) => e.data.orderId === placed.body.id);
    expect(sent).toHaveLength(1);
    expect(sent[0].subject).toBe(notificationId);
    expect(eventSchemas['notification.sent'].parse(sent[0].data)).toEqual({
      notificationId,
      channel: 'email',
      to: customer.user.email,
      subject: mail.subject,
      orderId: placed.body.id,
      // What the extracted service needs to rebuild the row (ADR 0321).
      userId: customer.user.id,
      status: 'sent',
      body: mail.text.trim(),
      sourceEventId: (await h.events('order.created')).find((e) => e.data.orderId === placed.body.id)!.id,
      createdAt: list.body.items[0].createdAt,
      sentAt: expect.any(String),
    });
  });

  test('When the card is declined, then the customer is told by email that the payment was declined', async () => {
    const customer = await h.signUp();
    const teapot = await product();
    const placed = await h.api.post('/api/orders', { items: [{ productId: teapot.id, quantity: 1 }], card: { number: DECLINED } }, customer.token);
    expect(placed.status).toBe(402);

    await h.deliverEvents();

    const [mail] = await eventually(async () => mailsTo(customer.user.email), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    expect(mail.subject).toMatch(/^Payment declined for order #[0-9A-F]{8}$/);
  });

  test('When order.created is delivered three times, then one email is sent', async () => {
    const customer = await h.signUp();
    const teapot = await product();
    const placed = await h.api.post('/api/orders', { items: [{ productId: teapot.id, quantity: 1 }], card: { number: GOOD } }, customer.token);
    await h.deliverEvents();
    const [created] = (await h.events('order.created')).filter((e) => e.data.orderId === placed.body.id);
    const subscription = h.monolith.subscriptions.find((s) => s.consumer === 'notification' && s.eventType === 'order.created')!;

    // Redelivered twice more, as RabbitMQ does after a lost ack.
    const again = [await processOnce(h.db.knex, subscription.consumer, created, subscription.handle), await processOnce(h.db.knex, subscription.consumer, created, subscription.handle)];

    expect(again).toEqual(['duplicate', 'duplicate']);
    await eventually(async () => mailsTo(customer.user.email), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    await h.monolith.modules.notifications.api.sendPending();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo(customer.user.email)).toHaveLength(1);
    expect((await h.api.get('/api/notifications', customer.token)).body.items).toHaveLength(1);
    expect((await h.events('notification.sent')).filter((e) => e.data.orderId === placed.body.id)).toHaveLength(1);
  });

  test('When another customer lists notifications, then they do not see someone else\'s', async () => {
    const [buyer, stranger] = [await h.signUp(), await h.signUp()];
    const teapot = await product();
    await h.api.post('/api/orders', { items: [{ productId: teapot.id, quantity: 1 }], card: { number: GOOD } }, buyer.token);
    await h.deliverEvents();
    await eventually(async () => mailsTo(buyer.user.email), { until: (m) => m.length === 1, timeoutMs: 10_000 });

    const strangers = await h.api.get('/api/notifications', stranger.token);
    const buyers = await h.api.get('/api/notifications', buyer.token);

    expect(strangers.status).toBe(200);
    expect(strangers.body).toEqual({ items: [], nextCursor: null });
    expect(buyers.body.items).toHaveLength(1);
  });

  test('Without a token, GET /api/notifications answers 401', async () => {
    const res = await h.api.get('/api/notifications');

    expect(res.status).toBe(401);
    expect(res.body.code).toBe('AUTH.UNAUTHORIZED');
  });
});
