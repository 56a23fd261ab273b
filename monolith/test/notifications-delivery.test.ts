/**
 * The notifications module on its own, against a real database and a real SMTP server: events
 * are delivered through the inbox exactly as the RabbitMQ consumer delivers them (processOnce),
 * and the module's own HTTP router is served over real HTTP.
 */
import { createServer } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import nodemailer from 'nodemailer';
import { v7 as uuidv7 } from 'uuid';
import { createTokenVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER, type TokenVerifier } from '@banyan/auth';
import { migrate } from '@banyan/db';
import { eventSchemas, type EventData, type EventEnvelope } from '@banyan/events';
import { createHttpApp, finishHttpApp, serve, type Served } from '@banyan/http';
import { inboxSchema, processOnce } from '@banyan/inbox';
import { createOutbox, envelopeFromRow, outboxSchema } from '@banyan/outbox';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, http, startSmtpServer, type SmtpCapture, type TestDatabase } from '@banyan/testing';
import { monolithConfigSchema } from '../src/config';
import type { Module, ModuleContext } from '../src/kernel';
import { createNotificationsModule, type Mailer, type NotificationsApi, type NotificationsOptions } from '../src/modules/notifications';
import { onOrderCreated } from '../src/modules/notifications/events/on-order-created';
import { staticRoutes } from '@banyan/routing-client';

const MAIL_FROM = 'Banyan Shop <shop@banyan.local>';

let db: TestDatabase;
let smtp: SmtpCapture;
let verifier: TokenVerifier;
let signToken: (userId: string, email: string) => Promise<string>;
const started: Array<Module<NotificationsApi>> = [];

beforeAll(async () => {
  db = await createTestDatabase('notifications_delivery');
  smtp = await startSmtpServer();
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256' };
  verifier = createTokenVerifier({ jwks: { keys: [jwk] } });
  signToken = (userId, email) =>
    new SignJWT({ email, role: 'customer' })
      .setProtectedHeader({ alg: 'ES256', kid: 'test' })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  const probe = notificationsModule(smtpMailer(smtp.port));
  await migrate(db.knex, [outboxSchema, inboxSchema, probe.schema]);
});

afterEach(async () => {
  for (const module of started.splice(0)) await module.stop?.();
});

afterAll(async () => {
  await smtp.close();
  await db.drop();
});

function notificationsModule(mailer: Mailer, options: Omit<NotificationsOptions, 'mailer'> = {}): Module<NotificationsApi> {
  const ctx: ModuleContext = {
    knex: db.knex,
    outbox: createOutbox({ source: '/banyan/monolith', origin: 'monolith' }),
    routing: staticRoutes(),
    logger: createLogger('notifications-test', 'silent'),
    config: monolithConfigSchema.parse({ MAIL_FROM, LOG_LEVEL: 'silent' }),
    verifier,
  };
  const module = createNotificationsModule(ctx, { mailer, ...options });
  started.push(module);
  return module;
}

const smtpMailer = (port: number): Mailer => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });

/** A port nobody listens on: connecting to it is refused at once, like an SMTP server that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An order.created envelope as the orders module writes it (validated against the contract schema). */
function orderCreated(overrides: Partial<EventData<'order.created'>> = {}): EventEnvelope<EventData<'order.created'>> {
  const orderId = overrides.orderId ?? uuidv7();
  const data = eventSchemas['order.created'].parse({
    orderId,
    userId: uuidv7(),
    customerEmail: `customer-${orderId.slice(-6)}@example.com`,
    status: 'confirmed',
    totalCents: 2 * 1250 + 999,
    items: [
      { productId: uuidv7(), quantity: 2, priceCents: 1250 },
      { productId: uuidv7(), quantity: 1, priceCents: 999 },
    ],
    createdAt: new Date().toISOString(),
    ...overrides,
  });
  return {
    specversion: '1.0',
    id: uuidv7(),
    source: '/banyan/monolith',
    type: 'order.created',
    subject: orderId,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    sequence: 1,
    origin: 'monolith',
    data,
  };
}

const deliver = (module: Module, event: EventEnvelope) => {
  const subscription = module.subscriptions.find((s) => s.eventType === event.type)!;
  return processOnce(db.knex, subscription.consumer, event, subscription.handle);
};

const notificationsOfOrder = (orderId: string) => db.knex('notifications.notifications').where({ order_id: orderId });

async function sentEventsOfOrder(orderId: string) {
  const rows = await db.knex('outbox.events').where({ type: 'notification.sent' }).whereRaw("data->>'orderId' = ?", [orderId]);
  return rows.map(envelopeFromRow);
}

const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to));

describe('notifications: order.created → email', () => {
  test('When order.created is delivered, then the customer receives the confirmation email and notification.sent is written with it', async () => {
    const module = notificationsModule(smtpMailer(smtp.port));
    const event = orderCreated();

    await deliver(module, event);

    const [mail] = await eventually(async () => mailsTo(event.data.customerEmail), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    const [row] = await eventually(() => notificationsOfOrder(event.data.orderId), { until: (rows) => rows[0]?.status === 'sent', timeoutMs: 10_000 });
    expect(mail.from).toBe('shop@banyan.local');
    expect(mail.subject).toBe(`Order confirmed: #${event.data.orderId.replace(/-/g, '').slice(-8).toUpperCase()}`);
    expect(mail.text).toContain('Total: 34.99');
    expect(mail.text).toContain(`2 × product ${event.data.items[0].productId} at 12.50 = 25.00`);
    expect(mail.messageId).toBe(`<${row.id}@banyan.local>`);
    expect(row).toMatchObject({ user_id: event.data.userId, channel: 'email', recipient: event.data.customerEmail, attempts: 1, last_error: null });
    expect(row.sent_at).not.toBeNull();

    const sent = await sentEventsOfOrder(event.data.orderId);
    expect(sent).toHaveLength(1);
    expect(sent[0].subject).toBe(row.id);
    expect(eventSchemas['notification.sent'].parse(sent[0].data)).toEqual({
      notificationId: row.id,
      channel: 'email',
      to: event.data.customerEmail,
      subject: mail.subject,
      orderId: event.data.orderId,
      // What the extracted service needs to rebuild the row (ADR 0321).
      userId: event.data.userId,
      status: 'sent',
      body: row.body,
      sourceEventId: event.id,
      createdAt: new Date(row.created_at).toISOString(),
      sentAt: new Date(row.sent_at).toISOString(),
    });
  });

  test('When the card was declined, then the email says the payment was declined', async () => {
    const module = notificationsModule(smtpMailer(smtp.port));
    const event = orderCreated({ status: 'payment_declined' });

    await deliver(module, event);

    const [mail] = await eventually(async () => mailsTo(event.data.customerEmail), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    expect(mail.subject).toMatch(/^Payment declined for order #[0-9A-F]{8}$/);
    expect(mail.text).toContain('not been charged');
  });

  test('When order.created is delivered three times, then one notification is recorded and one email is sent', async () => {
    const module = notificationsModule(smtpMailer(smtp.port));
    const event = orderCreated();

    const outcomes = [await deliver(module, event), await deliver(module, event), await deliver(module, event)];

    expect(outcomes).toEqual(['processed', 'duplicate', 'duplicate']);
    await eventually(async () => mailsTo(event.data.customerEmail), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    await eventually(() => notificationsOfOrder(event.data.orderId), { until: (rows) => rows[0]?.status === 'sent', timeoutMs: 10_000 });
    // A further sweep finds nothing left to send.
    await module.api.sendPending();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo(event.data.customerEmail)).toHaveLength(1);
    expect(await notificationsOfOrder(event.data.orderId)).toHaveLength(1);
    expect(await sentEventsOfOrder(event.data.orderId)).toHaveLength(1);
  });

  test('When the same order.created is delivered three times concurrently, then still one notification and one email', async () => {
    const module = notificationsModule(smtpMailer(smtp.port));
    const event = orderCreated();

    const outcomes = await Promise.all([deliver(module, event), deliver(module, event), deliver(module, event)]);

    expect(outcomes.filter((o) => o === 'processed')).toHaveLength(1);
    await eventually(() => sentEventsOfOrder(event.data.orderId), { until: (events) => events.length === 1, timeoutMs: 10_000 });
    await module.api.sendPending();
    expect(mailsTo(event.data.customerEmail)).toHaveLength(1);
    expect(await notificationsOfOrder(event.data.orderId)).toHaveLength(1);
  });

  test('When the handler\'s transaction rolls back, then no notification is recorded and no email is sent', async () => {
    const module = notificationsModule(smtpMailer(smtp.port));
    const event = orderCreated();
    const subscription = module.subscriptions[0];

    await expect(
      processOnce(db.knex, subscription.consumer, event, async (e, trx) => {
        await subscription.handle(e, trx);
        throw new Error('a later step of the same transaction failed');
      }),
    ).rejects.toThrow('a later step');

    await module.api.sendPending();
    expect(await notificationsOfOrder(event.data.orderId)).toHaveLength(0);
    expect(mailsTo(event.data.customerEmail)).toHaveLength(0);
    // The inbox row rolled back too: the redelivery is applied.
    expect(await deliver(module, event)).toBe('processed');
    await eventually(async () => mailsTo(event.data.customerEmail), { until: (m) => m.length === 1, timeoutMs: 10_000 });
  });
});

describe('notifications: SMTP failures', () => {
  test('When the SMTP server is down, then the notification stays pending with its error, and is delivered once a sender reaches SMTP again', async () => {
    // Injected: the first module's mailer points at a closed port.
    const down = notificationsModule(smtpMailer(await closedPort()), { retryBaseMs: 200 });
    const event = orderCreated();

    await deliver(down, event);
    await down.api.sendPending();

    const [pending] = await notificationsOfOrder(event.data.orderId);
    expect(pending.status).toBe('pending');
    expect(pending.attempts).toBeGreaterThanOrEqual(1);
    expect(pending.last_error).toMatch(/ECONNREFUSED/);
    expect(mailsTo(event.data.customerEmail)).toHaveLength(0);
    expect(await sentEventsOfOrder(event.data.orderId)).toHaveLength(0);
    await down.stop!();

    // SMTP is back: a new SMTP server, and a restarted module configured for it. Its sweep retries.
    const back = await startSmtpServer();
    try {
      const recovered = notificationsModule(smtpMailer(back.port), { sweepIntervalMs: 100 });
      await recovered.start!();

      const [mail] = await back.waitFor(1);
      expect(mail.to).toEqual([event.data.customerEmail]);
      expect(mail.messageId).toBe(`<${pending.id}@banyan.local>`);
      const [sent] = await eventually(() => notificationsOfOrder(event.data.orderId), { until: (rows) => rows[0]?.status === 'sent', timeoutMs: 10_000 });
      expect(sent.attempts).toBe(pending.attempts + 1);
      expect(await sentEventsOfOrder(event.data.orderId)).toHaveLength(1);
    } finally {
      await back.close();
    }
  });

  test('When SMTP stays down for the maximum number of attempts, then the notification is failed and no longer retried', async () => {
    const down = notificationsModule(smtpMailer(await closedPort()), { retryBaseMs: 0, maxAttempts: 3 });
    const event = orderCreated();

    await deliver(down, event);
    const [failed] = await eventually(
      async () => {
        await down.api.sendPending();
        return notificationsOfOrder(event.data.orderId);
      },
      { until: (rows) => rows[0]?.status === 'failed', timeoutMs: 10_000 },
    );

    expect(failed.attempts).toBe(3);
    expect(failed.last_error).toMatch(/ECONNREFUSED/);
    expect(await down.api.sendPending()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect((await notificationsOfOrder(event.data.orderId))[0].attempts).toBe(3);
    expect(await sentEventsOfOrder(event.data.orderId)).toHaveLength(0);
  });

  test('When a consumer commits its claim and never sends (what a process killed between COMMIT and the send leaves), then the row stays claimed until its lease runs out, and the sweep sends it once', async () => {
    // Injected: not a kill but its aftermath, a consumer whose handling commits the row, claimed
    // for 1 s, and never sends it. The kill itself, of a real consumer process after its commit,
    // is packages/messaging's fault 7.
    const dead = onOrderCreated({ leaseMs: 1_000, sendClaimed: () => undefined });
    const event = orderCreated();
    await processOnce(db.knex, dead.consumer, event, dead.handle);
    const [claimed] = await notificationsOfOrder(event.data.orderId);
    expect(claimed.status).toBe('pending');
    expect(new Date(claimed.claimed_until).getTime()).toBeGreaterThan(Date.now());

    // A sweeping sender meanwhile leaves the claimed row alone...
    const sweeper = notificationsModule(smtpMailer(smtp.port), { sweepIntervalMs: 100 });
    expect(await sweeper.api.sendPending()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect(mailsTo(event.data.customerEmail)).toHaveLength(0);

    // ...and sends it once the claim has run out.
    await sweeper.start!();
    await eventually(async () => mailsTo(event.data.customerEmail), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    const [sent] = await eventually(() => notificationsOfOrder(event.data.orderId), { until: (rows) => rows[0]?.status === 'sent', timeoutMs: 10_000 });
    // Not before the lease the dead consumer held had run out.
    expect(new Date(sent.sent_at).getTime()).toBeGreaterThanOrEqual(new Date(claimed.claimed_until).getTime());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo(event.data.customerEmail)).toHaveLength(1);
    expect(await sentEventsOfOrder(event.data.orderId)).toHaveLength(1);
  });

  test('When the module stops while an email is being sent, then stop waits and the email is sent and marked', async () => {
    const real = smtpMailer(smtp.port);
    let sendStarted!: () => void;
    const sendBegan = new Promise<void>((resolve) => (sendStarted = resolve));
    // A slow SMTP conversation: the send takes 500 ms.
    const slow: Mailer = {
      sendMail: (async (mail: Parameters<Mailer['sendMail']>[0]) => {
        sendStarted();
        await new Promise((resolve) => setTimeout(resolve, 500));
        return real.sendMail(mail);
      }) as Mailer['sendMail'],
    };
    const module = notificationsModule(slow);
    const event = orderCreated();

    await deliver(module, event);
    await sendBegan;
    await module.stop!();

    expect(mailsTo(event.data.customerEmail)).toHaveLength(1);
    const [row] = await notificationsOfOrder(event.data.orderId);
    expect(row.status).toBe('sent');
    expect(await sentEventsOfOrder(event.data.orderId)).toHaveLength(1);
  });
});

describe('GET /api/notifications', () => {
  let served: Served;

  beforeAll(async () => {
    const module = createNotificationsModule(
      {
        knex: db.knex,
        outbox: createOutbox({ source: '/banyan/monolith', origin: 'monolith' }),
        routing: staticRoutes(),
        logger: createLogger('notifications-test', 'silent'),
        config: monolithConfigSchema.parse({ MAIL_FROM, LOG_LEVEL: 'silent' }),
        verifier,
      },
      { mailer: smtpMailer(smtp.port) },
    );
    const app = createHttpApp({ logger: createLogger('notifications-test', 'silent') });
    app.use('/api/notifications', module.router);
    served = await serve(finishHttpApp(app));
  });

  afterAll(() => served.close(100));

  test('When a customer lists notifications, then they see only their own, newest first, page by page', async () => {
    const module = notificationsModule(smtpMailer(smtp.port));
    const alice = { userId: uuidv7(), email: `alice-${uuidv7()}@example.com` };
    const bob = { userId: uuidv7(), email: `bob-${uuidv7()}@example.com` };
    const aliceOrders = [orderCreated({ userId: alice.userId, customerEmail: alice.email }), orderCreated({ userId: alice.userId, customerEmail: alice.email }), orderCreated({ userId: alice.userId, customerEmail: alice.email, status: 'payment_declined' })];
    for (const event of aliceOrders) await deliver(module, event);
    await deliver(module, orderCreated({ userId: bob.userId, customerEmail: bob.email }));
    await eventually(async () => smtp.mails.filter((m) => m.to.includes(alice.email) || m.to.includes(bob.email)), { until: (m) => m.length === 4, timeoutMs: 10_000 });
    // The SMTP server has each mail a moment before its sender commits `sent`: wait for the rows.
    await eventually(() => db.knex('notifications.notifications').whereIn('recipient', [alice.email, bob.email]).where({ status: 'sent' }), { until: (rows) => rows.length === 4, timeoutMs: 10_000 });
    const api = http(served.url);
    const aliceToken = await signToken(alice.userId, alice.email);

    const first = await api.get('/api/notifications?limit=2', aliceToken);
    const second = await api.get(`/api/notifications?limit=2&cursor=${first.body.nextCursor}`, aliceToken);
    const bobs = await api.get('/api/notifications', await signToken(bob.userId, bob.email));

    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(second.status).toBe(200);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const items = [...first.body.items, ...second.body.items];
    expect(items.map((n: { subject: string }) => n.subject)).toEqual([
      expect.stringMatching(/^Payment declined for order #/),
      expect.stringMatching(/^Order confirmed: #/),
      expect.stringMatching(/^Order confirmed: #/),
    ]);
    expect(items[0]).toEqual({ id: expect.any(String), channel: 'email', to: alice.email, subject: expect.any(String), status: 'sent', createdAt: expect.any(String) });
    expect(items.every((n: { to: string }) => n.to === alice.email)).toBe(true);
    expect(bobs.body).toEqual({ items: [expect.objectContaining({ to: bob.email, status: 'sent' })], nextCursor: null });
  });

  test('When a notification is still pending, then the list says so', async () => {
    const module = notificationsModule(smtpMailer(await closedPort()), { retryBaseMs: 60_000 });
    const carol = { userId: uuidv7(), email: `carol-${uuidv7()}@example.com` };
    await deliver(module, orderCreated({ userId: carol.userId, customerEmail: carol.email }));
    await module.api.sendPending();

    const res = await http(served.url).get('/api/notifications', await signToken(carol.userId, carol.email));

    expect(res.body.items).toEqual([expect.objectContaining({ to: carol.email, status: 'pending' })]);
  });

  test('When a user has no notifications, then the list is empty', async () => {
    const res = await http(served.url).get('/api/notifications', await signToken(uuidv7(), 'nobody@example.com'));

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });

  test('Without a token, with a bad token, the list answers 401 problem+json', async () => {
    const api = http(served.url);

    const none = await api.get('/api/notifications');
    const bad = await api.get('/api/notifications', 'not.a.token');

    for (const res of [none, bad]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('AUTH.UNAUTHORIZED');
    }
  });

  test.each([
    ['limit=0'],
    ['limit=101'],
    ['limit=ten'],
    ['cursor=not-a-cursor'],
  ])('When the query is %s, then 400 VALIDATION.FAILED', async (query) => {
    const res = await http(served.url).get(`/api/notifications?${query}`, await signToken(uuidv7(), 'someone@example.com'));

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION.FAILED');
  });
});
