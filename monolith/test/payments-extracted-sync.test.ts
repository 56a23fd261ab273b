import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { DOMAINS } from '@banyan/events';
import { deleteTopology, names, startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import type { RouteMode, RoutingView } from '@banyan/routing-client';
import { createLogger } from '@banyan/telemetry';
import { eventually, testNamespace } from '@banyan/testing';
import { CALLER_TOKEN, jwksVerifier, observedProcessor, startPaymentsService, type PaymentsServiceHarness } from '../../extracted/payments-service/test/support';
import { startMonolith, type MonolithHarness } from './support/harness';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const namespace = testNamespace('paysync');
const logger = createLogger('payments-sync-test', process.env.TEST_LOG_LEVEL ?? 'silent');

/** The gateway's switch, flipped by the test: the door asks it on every call. */
function switchableRoutes(): RoutingView & { set(mode: RouteMode): void } {
  let mode: RouteMode = 'extracted';
  return {
    set: (next) => {
      mode = next;
    },
    get: (domain) => ({ domain, mode: domain === 'payments' ? mode : 'monolith', percent: 0, version: 0, fenced: false }),
    isExtracted: (domain) => domain === 'payments' && mode === 'extracted',
    beginWrite: async (domain) => ({ side: domain === 'payments' && mode === 'extracted' ? 'extracted' : 'monolith', done: () => undefined }),
    onChange: () => () => undefined,
    refresh: async () => undefined,
    stop: () => undefined,
  };
}

let h: MonolithHarness;
let svc: PaymentsServiceHarness;
const routing = switchableRoutes();
// One processor for both sides: it is one third party, whichever side calls it.
const card = observedProcessor();
const running: Array<Relay | Consumers> = [];
let adminToken: string;
let customer: { token: string };

beforeAll(async () => {
  svc = await startPaymentsService('pay_sync_svc', { verifier: jwksVerifier(() => `${h.served.url}/api/users/.well-known/jwks.json`), cardProcessor: card.processor });
  h = await startMonolith('pay_sync', { routing, cardProcessor: card.processor, env: { PAYMENTS_SERVICE_URL: svc.served.url, PAYMENTS_SERVICE_TOKEN: CALLER_TOKEN } });
  // Each side: its own relay for its own outbox, its consumers of the other side's payment events.
  running.push(await startConsumers({ url: RABBITMQ_URL, knex: h.db.knex, subscriptions: h.monolith.modules.payments.syncSubscriptions!, logger, namespace }));
  running.push(await startConsumers({ url: RABBITMQ_URL, knex: svc.db.knex, subscriptions: svc.service.definition.subscriptions!, logger, namespace }));
  for (const db of [h.db, svc.db]) {
    const relay = createRelay({ database: db.settings, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100 });
    await relay.start();
    running.push(relay);
  }
  adminToken = (await h.admin()).token;
  customer = await h.signUp();
});

afterAll(async () => {
  for (const r of running.reverse()) await ('stop' in r ? r.stop() : r.close());
  const connection = await amqplib.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  for (const r of running) if ('topology' in r) await deleteTopology(channel, r.topology);
  for (const domain of DOMAINS) await channel.deleteExchange(names(namespace).exchange(domain));
  await connection.close();
  await h.close();
  await svc.close();
});

async function checkout(): Promise<string> {
  const product = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents: 800, stock: 5 }, adminToken);
  const res = await h.api.post('/api/orders', { items: [{ productId: product.body.id, quantity: 1 }], card: { number: '4242424242424242' } }, customer.token);
  if (res.status !== 201) throw new Error(res.text);
  return res.body.id;
}
const SYNCED = ['id', 'order_id', 'user_id', 'amount_cents', 'status', 'decline_reason', 'processor_reference', 'card_last4', 'version'];
const rowIn = (side: 'monolith' | 'service', orderId: string) => (side === 'monolith' ? h.db : svc.db).knex('payments.payments').where({ order_id: orderId }).first(SYNCED);

test('When the service captures (extracted), then the monolith’s table gets the same row; switched back, the monolith refunds it and the service gets that; nothing echoes', async () => {
  routing.set('extracted');
  const orderId = await checkout();
  const atService = await rowIn('service', orderId);
  expect(atService).toMatchObject({ status: 'captured', version: '1' });
  expect(await eventually(() => rowIn('monolith', orderId), { until: (r) => r?.status === 'captured', timeoutMs: 10_000 })).toEqual(atService);

  // Switch back: the monolith module serves payments again, with the row the service made.
  routing.set('monolith');
  const cancelled = await h.api.post(`/api/orders/${orderId}/cancel`, undefined, customer.token);
  expect(cancelled.body.status).toBe('cancelled');
  const atMonolith = await rowIn('monolith', orderId);
  expect(atMonolith).toMatchObject({ status: 'refunded', version: '2' });
  expect(await eventually(() => rowIn('service', orderId), { until: (r) => r?.status === 'refunded', timeoutMs: 10_000 })).toEqual(atMonolith);

  // Each side published only its own change, once.
  const paymentId = atMonolith.id as string;
  const own = async (side: 'monolith' | 'service') => ((side === 'monolith' ? await h.events() : await svc.events()).filter((e) => e.subject === paymentId)).map((e) => `${e.type}#${e.sequence}@${e.origin}`);
  await new Promise((r) => setTimeout(r, 300));
  expect(await own('service')).toEqual(['payment.captured#1@payments-service']);
  expect(await own('monolith')).toEqual(['payment.refunded#2@monolith']);
});

test('When the monolith serves payments, then its captures reach the service, which can refund them once extracted', async () => {
  routing.set('monolith');
  const orderId = await checkout();
  const atMonolith = await rowIn('monolith', orderId);
  expect(atMonolith).toMatchObject({ status: 'captured', version: '1' });
  expect(await eventually(() => rowIn('service', orderId), { until: (r) => r !== undefined, timeoutMs: 10_000 })).toEqual(atMonolith);

  routing.set('extracted');
  const cancelled = await h.api.post(`/api/orders/${orderId}/cancel`, undefined, customer.token);
  expect(cancelled.body.status).toBe('cancelled');
  expect(await rowIn('service', orderId)).toMatchObject({ status: 'refunded', version: '2' });
  expect(await eventually(() => rowIn('monolith', orderId), { until: (r) => r?.status === 'refunded', timeoutMs: 10_000 })).toEqual(await rowIn('service', orderId));
});
