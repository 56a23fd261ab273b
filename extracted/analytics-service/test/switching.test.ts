/**
 * Analytics switched at a real gateway: the monolith (its analytics module consuming its queues
 * through the inbox) and the service (reading the history stream) both count the orders that
 * customers place through the gateway; the monolith's relay publishes them, the history stream
 * keeps them. Nothing is copied between the sides: both learn from the same events.
 */
import { v7 as uuidv7 } from 'uuid';
import { DOMAINS } from '@banyan/events';
import { serve, type Served } from '@banyan/http';
import { names, removeTopology, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, testNamespace, type TestDatabase } from '@banyan/testing';
import { startGateway, type GatewayHarness } from '../../../gateway/test/support/gateway';
import { startMessaging } from '../../../monolith/src/messaging';
import { startMonolith, type MonolithHarness } from '../../../monolith/test/support/harness';
import { buildAnalyticsService } from '../src/app';
import { RABBITMQ_URL } from './history';

const namespace = testNamespace('analytics-switch');
const logger = createLogger('analytics-switch', process.env.TEST_LOG_LEVEL ?? 'silent');
const GOOD = '4242424242424242';
const DECLINED = '4000000000000002';
let mono: MonolithHarness;
let serviceDb: TestDatabase;
let service: ReturnType<typeof buildAnalyticsService>;
let served: Served;
let relay: Relay;
let consumers: Consumers;
let gateway: GatewayHarness;
let admin: string;
let customer: string;

beforeAll(async () => {
  mono = await startMonolith('analytics_switch_mono');
  // The relay declares the history stream before its first publish, as in `npm start`.
  relay = createRelay({ database: mono.db.settings, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100, historyMaxBytes: 100_000_000 });
  await relay.start();
  consumers = await startMessaging({ config: { RABBITMQ_URL }, knex: mono.db.knex, logger, namespace, subscriptions: mono.monolith.modules.analytics.subscriptions ?? [] });
  serviceDb = await createTestDatabase('analytics_switch_svc');
  service = buildAnalyticsService({ knex: serviceDb.knex, logger, jwksUrl: `${mono.served.url}/api/users/.well-known/jwks.json` }, { url: RABBITMQ_URL, namespace, checkIntervalMs: 100 });
  await service.start();
  served = await serve(service.app, 0);
  gateway = await startGateway({ label: 'analytics_switch_gw', monolith: mono.served.url, services: { analytics: served.url } });
  admin = (await mono.admin()).token;
  customer = (await mono.signUp()).token;
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await served?.close(1000);
  await service?.stop();
  await consumers?.close();
  await relay?.stop();
  await removeTopology(RABBITMQ_URL, [consumers.topology, { queues: [names(namespace).history], exchanges: DOMAINS.map((d) => names(namespace).exchange(d)) }]).catch(() => undefined);
  await serviceDb?.drop();
  await mono?.close();
}, 60_000);

const figures = async () => ({
  sales: (await gateway.api.get('/api/analytics/sales', admin)).body,
  top: (await gateway.api.get('/api/analytics/top-products', admin)).body,
});
const monolithFigures = async () => ({
  sales: (await mono.api.get('/api/analytics/sales', admin)).body,
  top: (await mono.api.get('/api/analytics/top-products', admin)).body,
});
async function order(productId: string, quantity: number, card: string) {
  const res = await gateway.api.post('/api/orders', { items: [{ productId, quantity }], card: { number: card } }, customer);
  expect([201, 402]).toContain(res.status);
  return res.body.id as string;
}

test('When analytics is switched to the service, then the gateway answers the figures the monolith answered, and after a new order both sides agree again', async () => {
  const product = await gateway.api.post('/api/products', { sku: `ANALYTICS-${uuidv7()}`, name: 'Kettle', priceCents: 2_500, stock: 1_000 }, admin);
  expect(product.status).toBe(201);
  await order(product.body.id, 2, GOOD);
  await order(product.body.id, 1, DECLINED);
  const cancelled = await order(product.body.id, 3, GOOD);
  expect((await gateway.api.post(`/api/orders/${cancelled}/cancel`, {}, customer)).status).toBe(200);

  const before = await eventually(figures, { timeoutMs: 10_000, until: (f) => f.sales.orders === 1 && f.top.items[0]?.name === 'Kettle', what: "the monolith's module counting the one order that stands" });
  expect(before.sales.totalCents).toBe(5_000);
  expect(before.top.items).toEqual([{ productId: product.body.id, name: 'Kettle', quantity: 2, revenueCents: 5_000 }]);

  await gateway.route('analytics', 'extracted');
  await eventually(figures, { timeoutMs: 10_000, until: (f) => JSON.stringify(f) === JSON.stringify(before), what: 'the service answering the same figures through the gateway' });

  // The module stops consuming for a while: the next order reaches only the service, so an answer
  // that counts it can only have come from the service.
  await consumers.close();
  await order(product.body.id, 4, GOOD);
  const after = await eventually(figures, { timeoutMs: 10_000, until: (f) => f.sales.orders === 2, what: 'the service counting the new order' });
  expect(after.sales.totalCents).toBe(15_000);
  expect((await monolithFigures()).sales.orders).toBe(1);
  consumers = await startMessaging({ config: { RABBITMQ_URL }, knex: mono.db.knex, logger, namespace, subscriptions: mono.monolith.modules.analytics.subscriptions ?? [] });
  await eventually(monolithFigures, { timeoutMs: 10_000, until: (f) => JSON.stringify(f) === JSON.stringify(after), what: 'the monolith agreeing with the service' });
}, 60_000);
