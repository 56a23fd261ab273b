/**
 * The monolith and the notifications service side by side, as `npm start` runs them: each with
 * its own database, outbox and relay, both on one RabbitMQ (a namespace of this file's own), both
 * following one routing table, each sending through its own real SMTP server so every email
 * says which side sent it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { v7 as uuidv7 } from 'uuid';
import type { EventEnvelope } from '@banyan/events';
import { serve, type Served } from '@banyan/http';
import { names, startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { watchRoutes, type RoutingView } from '@banyan/routing-client';
import { followRoute, type RouteFollower } from '@banyan/service-kit';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, http, startSmtpServer, testNamespace, type SmtpCapture, type TestDatabase } from '@banyan/testing';
import { startModuleConsumers } from '../../../monolith/src/consumers';
import { startMessaging } from '../../../monolith/src/messaging';
import { startMonolith, type MonolithHarness } from '../../../monolith/test/support/harness';
import { buildNotificationsService } from '../src/app';
import {
  inspectQueue,
  MAIL_FROM,
  publishEvent,
  RABBITMQ_URL,
  sleep,
  startRoutesServer,
  topologyRecorder,
} from './support';

jest.setTimeout(60_000);

const GOOD = '4242424242424242';
const TOKEN = randomBytes(24).toString('hex');
const namespace = testNamespace('notifsw');
const n = names(namespace);
const ORDER_QUEUE = n.queue('notification', 'order.created');
const logger = createLogger('notifications-switch-test', process.env.TEST_LOG_LEVEL ?? 'silent');

let routes: Awaited<ReturnType<typeof startRoutesServer>>;
let h: MonolithHarness;
let monolithRouting: RoutingView;
let monolithRelay: Relay;
let monolithConsumers: { close(): Promise<void> };
let serviceDb: TestDatabase;
let serviceSmtp: SmtpCapture;
let service: ReturnType<typeof buildNotificationsService>;
let serviceServed: Served;
let serviceApi: ReturnType<typeof http>;
let serviceRouting: RoutingView;
let serviceRelay: Relay;
let serviceSync: Consumers;
let serviceOwn: RouteFollower;
let adminToken: string;
const topology = topologyRecorder();

const relayFor = (db: TestDatabase) =>
  createRelay({ database: db.settings, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100, leaseTtlMs: 2_000 });

beforeAll(async () => {
  routes = await startRoutesServer(TOKEN);
  routes.route('notifications', 'monolith');
  const watch = () => watchRoutes({ adminUrl: routes.url, token: TOKEN, intervalMs: 100 });

  monolithRouting = watch();
  await monolithRouting.refresh();
  h = await startMonolith('notif_switch', { routing: monolithRouting });
  monolithRelay = relayFor(h.db);
  await monolithRelay.start();
  monolithConsumers = await startModuleConsumers(
    h.monolith,
    monolithRouting,
    async (subscriptions) => topology.record(await startMessaging({ config: { RABBITMQ_URL }, knex: h.db.knex, logger, subscriptions, namespace })),
    logger,
  );

  serviceDb = await createTestDatabase('notif_switch_svc');
  serviceSmtp = await startSmtpServer();
  service = buildNotificationsService(
    // The users domain's public keys, fetched over HTTP from whoever serves users (here the monolith).
    { knex: serviceDb.knex, logger, jwksUrl: `${h.served.url}/api/users/.well-known/jwks.json` },
    {
      mailer: nodemailer.createTransport({ host: serviceSmtp.host, port: serviceSmtp.port, secure: false, ignoreTLS: true }),
      from: MAIL_FROM,
      sweepIntervalMs: 300,
    },
  );
  await service.start();
  serviceServed = await serve(service.app, 0);
  serviceApi = http(serviceServed.url);
  serviceRelay = relayFor(serviceDb);
  await serviceRelay.start();
  serviceSync = topology.record(
    await startConsumers({ url: RABBITMQ_URL, knex: serviceDb.knex, logger, namespace, subscriptions: service.definition.subscriptions ?? [] }),
  );
  serviceRouting = watch();
  await serviceRouting.refresh();
  serviceOwn = followRoute({
    routing: serviceRouting,
    domain: 'notifications',
    logger,
    start: async () =>
      topology.record(
        await startConsumers({ url: RABBITMQ_URL, knex: serviceDb.knex, logger, namespace, subscriptions: service.definition.routedSubscriptions ?? [] }),
      ),
  });
  await serviceOwn.settled();

  adminToken = (await h.admin()).token;
});

afterAll(async () => {
  await serviceOwn?.close();
  await serviceSync?.close();
  serviceRouting?.stop();
  await serviceRelay?.stop();
  await serviceServed?.close(1000);
  await service?.stop();
  await serviceSmtp?.close();
  await serviceDb?.drop();
  await monolithConsumers?.close();
  monolithRouting?.stop();
  await monolithRelay?.stop();
  await h?.close();
  await routes?.close();
  await topology.deleteAll();
});

/**
 * Flip the route and wait until both sides acted on it: the side that now owns the queue is the
 * one consumer the broker sees on it (so the other side has let go).
 */
async function routeNotifications(mode: 'monolith' | 'extracted') {
  routes.route('notifications', mode);
  await eventually(async () => {
    await serviceOwn.settled();
    return { serviceActive: serviceOwn.active, ...(await inspectQueue(ORDER_QUEUE)) };
  }, { until: (s) => s.serviceActive === (mode === 'extracted') && s.consumerCount === 1, timeoutMs: 10_000 });
}

async function placeOrder(customerToken: string) {
  const product = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Teapot', priceCents: 1250, stock: 100 }, adminToken);
  if (product.status !== 201) throw new Error(product.text);
  const order = await h.api.post('/api/orders', { items: [{ productId: product.body.id, quantity: 1 }], card: { number: GOOD } }, customerToken);
  expect(order.status).toBe(201);
  return order.body as { id: string };
}

const mailsTo = (smtp: SmtpCapture, email: string) => smtp.mails.filter((m) => m.to.includes(email));

/** Both sides list the same notifications for this customer, every row `sent`. */
async function listedAlikeOnBothSides(token: string, count: number) {
  return eventually(
    async () => ({ monolith: (await h.api.get('/api/notifications', token)).body, service: (await serviceApi.get('/api/notifications', token)).body }),
    {
      until: (both) =>
        both.monolith.items?.length === count &&
        both.monolith.items.every((i: { status: string }) => i.status === 'sent') &&
        JSON.stringify(both.monolith) === JSON.stringify(both.service),
      timeoutMs: 10_000,
    },
  );
}

describe('notifications while switching between the monolith and its service', () => {
  test('When notifications is extracted and an order is placed in the monolith, then exactly one email goes out, sent by the service, and both sides list it', async () => {
    await routeNotifications('extracted');
    const customer = await h.signUp();

    const order = await placeOrder(customer.token);

    const [mail] = await eventually(() => mailsTo(serviceSmtp, customer.user.email), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    const both = await listedAlikeOnBothSides(customer.token, 1);
    expect(mail.subject).toBe(`Order confirmed: #${order.id.replace(/-/g, '').slice(-8).toUpperCase()}`);
    expect(mail.messageId).toBe(`<${both.service.items[0].id}@banyan.local>`);
    expect(mailsTo(h.smtp, customer.user.email)).toHaveLength(0);
    // The monolith has the service's row, already sent, so its own sender will not mail it again.
    const [copy] = await h.db.knex('notifications.notifications').where({ order_id: order.id });
    expect(copy).toMatchObject({ id: both.service.items[0].id, status: 'sent', version: 1, attempts: 0 });
  });

  test('When the same order.created reaches the service three times, then the customer gets one email and the service records one notification', async () => {
    await routeNotifications('extracted');
    const customer = await h.signUp();
    const orderId = uuidv7();
    const event: EventEnvelope = {
      specversion: '1.0',
      id: uuidv7(),
      source: '/banyan/monolith',
      type: 'order.created',
      subject: orderId,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      sequence: 1,
      origin: 'monolith',
      data: {
        orderId,
        userId: customer.user.id,
        customerEmail: customer.user.email,
        status: 'confirmed',
        totalCents: 1250,
        items: [{ productId: uuidv7(), quantity: 1, priceCents: 1250 }],
        createdAt: new Date().toISOString(),
      },
    };

    await publishEvent(n.exchangeOf('order.created'), event, 3);

    await eventually(() => mailsTo(serviceSmtp, customer.user.email), { until: (m) => m.length >= 1, timeoutMs: 10_000 });
    await eventually(() => inspectQueue(ORDER_QUEUE), { until: (q) => q.messageCount === 0, timeoutMs: 10_000 });
    // Long enough for a second row, had one been recorded, to be swept and mailed (sweep: 300 ms).
    await sleep(1_000);
    expect(mailsTo(serviceSmtp, customer.user.email)).toHaveLength(1);
    expect(mailsTo(h.smtp, customer.user.email)).toHaveLength(0);
    expect(await serviceDb.knex('notifications.notifications').where({ source_event_id: event.id })).toHaveLength(1);
    expect(await serviceDb.knex('inbox.processed').where({ consumer: 'notification', event_id: event.id })).toHaveLength(1);
  });

  test('When notifications is switched back, then the monolith sends the next email, the service none, and the service keeps the monolith\'s row', async () => {
    await routeNotifications('extracted');
    const customer = await h.signUp();
    await placeOrder(customer.token);
    await eventually(() => mailsTo(serviceSmtp, customer.user.email), { until: (m) => m.length === 1, timeoutMs: 10_000 });

    await routeNotifications('monolith');
    const order = await placeOrder(customer.token);

    await eventually(() => mailsTo(h.smtp, customer.user.email), { until: (m) => m.length === 1, timeoutMs: 10_000 });
    const both = await listedAlikeOnBothSides(customer.token, 2);
    expect(mailsTo(serviceSmtp, customer.user.email)).toHaveLength(1);
    expect(mailsTo(h.smtp, customer.user.email)[0].subject).toContain(order.id.replace(/-/g, '').slice(-8).toUpperCase());
    expect(both.service.items.map((i: { subject: string }) => i.subject)).toEqual(both.monolith.items.map((i: { subject: string }) => i.subject));
  });
});
