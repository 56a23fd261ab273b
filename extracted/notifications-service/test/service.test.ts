/**
 * The notifications service on its own: its own database, a real SMTP server, its HTTP API over
 * real HTTP, events delivered through the inbox exactly as the RabbitMQ consumer delivers them.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import nodemailer from 'nodemailer';
import { v7 as uuidv7 } from 'uuid';
import { createTokenVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { eventSchemas, type EventData, type EventEnvelope } from '@banyan/events';
import { serve, type Served } from '@banyan/http';
import { processOnce, type Subscription } from '@banyan/inbox';
import { envelopeFromRow } from '@banyan/outbox';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, http, startSmtpServer, type SmtpCapture, type TestDatabase } from '@banyan/testing';
import { buildNotificationsService } from '../src/app';
import { MAIL_FROM, sleep } from './support';

let db: TestDatabase;
let smtp: SmtpCapture;
let service: ReturnType<typeof buildNotificationsService>;
let served: Served;
let api: ReturnType<typeof http>;
let signToken: (userId: string) => Promise<string>;

beforeAll(async () => {
  db = await createTestDatabase('notif_service');
  smtp = await startSmtpServer();
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256' };
  signToken = (userId) =>
    new SignJWT({ email: 'someone@example.com', role: 'customer' })
      .setProtectedHeader({ alg: 'ES256', kid: 'test' })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  service = buildNotificationsService(
    { knex: db.knex, logger: createLogger('notifications-service-test', 'silent'), verifier: createTokenVerifier({ jwks: { keys: [jwk] } }) },
    {
      mailer: nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true }),
      from: MAIL_FROM,
      sweepIntervalMs: 200,
    },
  );
  await service.start();
  served = await serve(service.app, 0);
  api = http(served.url);
});

afterAll(async () => {
  await served.close(1000);
  await service.stop();
  await smtp.close();
  await db.drop();
});

const subscription = (list: Subscription[] | undefined, eventType: string) => list!.find((s) => s.eventType === eventType)!;
const deliverOrderCreated = (event: EventEnvelope) => {
  const sub = subscription(service.definition.routedSubscriptions, 'order.created');
  return processOnce(db.knex, sub.consumer, event, sub.handle);
};
const deliverNotificationSent = (event: EventEnvelope) => {
  const sub = subscription(service.definition.subscriptions, 'notification.sent');
  return processOnce(db.knex, sub.consumer, event, sub.handle);
};

function envelope<T>(type: string, subject: string, data: T, overrides: Partial<EventEnvelope<T>> = {}): EventEnvelope<T> {
  return {
    specversion: '1.0',
    id: uuidv7(),
    source: '/banyan/monolith',
    type,
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    sequence: 1,
    origin: 'monolith',
    data,
    ...overrides,
  };
}

function orderCreated(userId = uuidv7()) {
  const orderId = uuidv7();
  const data = eventSchemas['order.created'].parse({
    orderId,
    userId,
    customerEmail: `customer-${orderId.slice(-8)}@example.com`,
    status: 'confirmed',
    totalCents: 1250,
    items: [{ productId: uuidv7(), quantity: 1, priceCents: 1250 }],
    createdAt: new Date().toISOString(),
  });
  return envelope('order.created', orderId, data);
}

/** A notification the monolith sent, as its notification.sent carries it. */
function monolithSent(userId: string, overrides: Partial<EventData<'notification.sent'>> = {}, envelopeOverrides: Partial<EventEnvelope<EventData<'notification.sent'>>> = {}) {
  const notificationId = uuidv7();
  const data = eventSchemas['notification.sent'].parse({
    notificationId,
    channel: 'email',
    to: `someone-${notificationId.slice(-6)}@example.com`,
    subject: 'Order confirmed: #ABCDEF12',
    orderId: uuidv7(),
    userId,
    status: 'sent',
    body: 'Thank you for your order.',
    sourceEventId: uuidv7(),
    createdAt: '2026-01-02T03:04:05.678Z',
    sentAt: '2026-01-02T03:04:06.789Z',
    ...overrides,
  });
  return envelope('notification.sent', notificationId, data, envelopeOverrides);
}

const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to));

describe('notifications service: order.created → email', () => {
  test('When order.created is delivered, then the customer is mailed once and notification.sent carries everything the monolith needs to rebuild the row', async () => {
    const event = orderCreated();

    await deliverOrderCreated(event);

    const [mail] = await eventually(async () => mailsTo(event.data.customerEmail), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    const [row] = await eventually(() => db.knex('notifications.notifications').where({ order_id: event.data.orderId }), { until: (r) => r[0]?.status === 'sent', timeoutMs: 10_000 });
    const [sent] = (await db.knex('outbox.events').where({ type: 'notification.sent', aggregate_id: row.id })).map(envelopeFromRow);
    expect(mail.messageId).toBe(`<${row.id}@banyan.local>`);
    expect(row.version).toBe(1);
    expect(sent).toMatchObject({
      origin: 'notifications-service',
      source: '/banyan/notifications-service',
      sequence: 1,
      data: {
        notificationId: row.id,
        userId: event.data.userId,
        to: event.data.customerEmail,
        subject: mail.subject,
        body: row.body,
        status: 'sent',
        orderId: event.data.orderId,
        sourceEventId: event.id,
        createdAt: new Date(row.created_at).toISOString(),
        sentAt: new Date(row.sent_at).toISOString(),
      },
    });
    expect(eventSchemas['notification.sent'].safeParse(sent.data).success).toBe(true);
  });

  test('When the same order.created is delivered three times, then one notification is recorded and one email sent', async () => {
    const event = orderCreated();

    const outcomes = [await deliverOrderCreated(event), await deliverOrderCreated(event), await deliverOrderCreated(event)];

    await eventually(async () => mailsTo(event.data.customerEmail), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    await sleep(600);
    expect(outcomes).toEqual(['processed', 'duplicate', 'duplicate']);
    expect(mailsTo(event.data.customerEmail)).toHaveLength(1);
    expect(await db.knex('notifications.notifications').where({ source_event_id: event.id })).toHaveLength(1);
  });
});

describe('notifications service: keeping current from the monolith', () => {
  test('When the monolith\'s notification.sent arrives, then the service lists the row as the monolith does and never mails it again', async () => {
    const userId = uuidv7();
    const event = monolithSent(userId);

    await deliverNotificationSent(event);

    const res = await api.get('/api/notifications', await signToken(userId));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [{ id: event.data.notificationId, channel: 'email', to: event.data.to, subject: event.data.subject, status: 'sent', createdAt: '2026-01-02T03:04:05.678Z' }],
      nextCursor: null,
    });
    await sleep(500);
    expect(mailsTo(event.data.to)).toHaveLength(0);
    // Its counter for the notification reached the event: what a switch's fence reads (ADR 0303).
    const [counter] = await db.knex('outbox.aggregate_sequences').where({ aggregate_type: 'notifications', aggregate_id: event.data.notificationId });
    expect(Number(counter?.last_sequence)).toBe(event.sequence);
  });

  test('When the service\'s own notification.sent comes back on the shared exchange, then it is not applied again', async () => {
    const userId = uuidv7();
    const echo = monolithSent(userId, {}, { origin: 'notifications-service' });

    await deliverNotificationSent(echo);

    expect(await db.knex('notifications.notifications').where({ id: echo.data.notificationId })).toHaveLength(0);
  });

  test('When an older version arrives after a newer one, then the newer one stays', async () => {
    const userId = uuidv7();
    const newer = monolithSent(userId, { sentAt: '2026-01-02T03:10:00.000Z' }, { sequence: 2 });
    const older = envelope('notification.sent', newer.subject, { ...newer.data, sentAt: '2026-01-02T03:05:00.000Z' }, { sequence: 1 });

    await deliverNotificationSent(newer);
    await deliverNotificationSent(older);

    const [row] = await db.knex('notifications.notifications').where({ id: newer.data.notificationId });
    expect(row.version).toBe(2);
    const [counter] = await db.knex('outbox.aggregate_sequences').where({ aggregate_type: 'notifications', aggregate_id: newer.data.notificationId });
    expect(Number(counter.last_sequence)).toBe(2);
    expect(new Date(row.sent_at).toISOString()).toBe('2026-01-02T03:10:00.000Z');
  });

  test('When a notification.sent without the sync fields arrives (written before they existed), then nothing is written and the event is still consumed', async () => {
    const legacy = envelope('notification.sent', uuidv7(), { notificationId: uuidv7(), channel: 'email', to: 'old@example.com', subject: 'Old' });

    const outcome = await deliverNotificationSent(legacy);

    expect(outcome).toBe('processed');
    expect(await db.knex('notifications.notifications').where({ recipient: 'old@example.com' })).toHaveLength(0);
  });
});

describe('notifications service: HTTP contract', () => {
  test('When the token is missing, then 401 problem+json; when the cursor is not one we issued, then 400', async () => {
    const anonymous = await api.get('/api/notifications');
    const badCursor = await api.get('/api/notifications?cursor=bm90LWEtdXVpZA', await signToken(uuidv7()));

    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    expect(anonymous.body.code).toBe('AUTH.UNAUTHORIZED');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.code).toBe('VALIDATION.FAILED');
  });

  test('When a customer has more notifications than the page, then they page newest first with a cursor', async () => {
    const userId = uuidv7();
    for (let i = 0; i < 3; i++) await deliverNotificationSent(monolithSent(userId, { subject: `S${i}` }));
    const token = await signToken(userId);

    const first = await api.get('/api/notifications?limit=2', token);
    const second = await api.get(`/api/notifications?limit=2&cursor=${first.body.nextCursor}`, token);

    expect(first.body.items.map((i: { subject: string }) => i.subject)).toEqual(['S2', 'S1']);
    expect(second.body).toEqual({ items: [expect.objectContaining({ subject: 'S0' })], nextCursor: null });
  });
});
