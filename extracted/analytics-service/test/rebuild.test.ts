/**
 * The analytics service's read models built from the event history (ADR 0110), against a real
 * broker (a namespaced history stream, events published to the domain exchanges as the relay
 * publishes them) and real databases: the monolith module's figures computed by the module's own
 * handlers from the same events, the service's by reading the stream.
 */
import amqplib from 'amqplib';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { migrate } from '@banyan/db';
import { serve, type Served } from '@banyan/http';
import { declareHistory, names } from '@banyan/messaging';
import { projectionVersions, requestRebuild } from '@banyan/sync';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, http, testNamespace, type TestDatabase } from '@banyan/testing';
import { analyticsSchema as moduleSchema } from '../../../monolith/src/modules/analytics/data/migrations';
import { analyticsRepository as moduleStore } from '../../../monolith/src/modules/analytics/data/repository';
import { salesReport } from '../../../monolith/src/modules/analytics/domain/sales-report';
import { topProducts } from '../../../monolith/src/modules/analytics/domain/top-products';
import { buildAnalyticsService } from '../src/app';
import { applyToModule, FIRST_DAY, LAST_DAY, orderEvents, publishEvents, RABBITMQ_URL, shopHistory } from './history';

const namespace = testNamespace('analytics-rebuild');
const SALES = `/api/analytics/sales?from=${FIRST_DAY}&to=${LAST_DAY}`;
const TOP = '/api/analytics/top-products?limit=50';
let monolith: TestDatabase;
let serviceDb: TestDatabase;
let served: Served | undefined;
let service: ReturnType<typeof buildAnalyticsService> | undefined;
let adminToken: string;
let verifier: ReturnType<typeof createTokenVerifier>;
const history = shopHistory(45_000);

async function startService() {
  service = buildAnalyticsService(
    { knex: serviceDb.knex, logger: createLogger('analytics-service-test', 'silent'), verifier },
    { url: RABBITMQ_URL, namespace, checkIntervalMs: 50 },
  );
  await service.start();
  served = await serve(service.app, 0);
  return http(served.url);
}
async function stopService() {
  await served?.close();
  await service?.stop();
  served = service = undefined;
}
const moduleFigures = async () => ({
  sales: await salesReport({ knex: monolith.knex, store: moduleStore }, FIRST_DAY, LAST_DAY),
  top: await topProducts({ knex: monolith.knex, store: moduleStore }, 50),
});
const versions = () => projectionVersions(serviceDb.knex, 'analytics');

beforeAll(async () => {
  [monolith, serviceDb] = await Promise.all([createTestDatabase('analytics_rebuild_m'), createTestDatabase('analytics_rebuild_s')]);
  const connection = await amqplib.connect(RABBITMQ_URL);
  await declareHistory(await connection.createChannel(), { namespace, maxBytes: 1_000_000_000 });
  await connection.close();
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  verifier = createTokenVerifier({ jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256' }] } });
  adminToken = await new SignJWT({ email: 'admin@banyan.local', role: 'admin' })
    .setProtectedHeader({ alg: 'ES256', kid: 'test' })
    .setSubject('0190a000-0000-7000-8000-000000000001')
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  await migrate(monolith.knex, [moduleSchema]);
  await Promise.all([publishEvents(namespace, history.events), applyToModule(monolith.knex, history.events)]);
}, 120_000);

afterAll(async () => {
  await stopService();
  const connection = await amqplib.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  await channel.deleteQueue(names(namespace).history);
  for (const domain of ['users', 'products', 'orders', 'payments', 'notifications']) await channel.deleteExchange(names(namespace).exchange(domain));
  await connection.close();
  await monolith?.drop();
  await serviceDb?.drop();
});

test('When the service starts on a history of 50,000 events, then its first version reads it all and answers the monolith module\'s figures, each event once', async () => {
  expect(history.events.length).toBeGreaterThanOrEqual(50_000);
  const started = Date.now();
  const api = await startService();
  const [v1] = await eventually(versions, { timeoutMs: 60_000, intervalMs: 100, until: (v) => v[0]?.offset === history.events.length - 1, what: 'version 1 at the last offset' });
  const seconds = (Date.now() - started) / 1000;
  console.log(`analytics rebuild: ${history.events.length} events in ${seconds.toFixed(1)} s = ${Math.round(history.events.length / seconds)} events/s`);

  const unique = new Set(history.events.map((e) => e.id)).size;
  expect(v1).toMatchObject({ version: 1, state: 'live', applied: unique });
  const expected = await moduleFigures();
  expect(expected.sales.orders).toBeGreaterThan(30_000);
  const sales = await api.get(SALES, adminToken);
  expect(sales.status).toBe(200);
  expect(sales.body).toEqual(expected.sales);
  expect((await api.get(TOP, adminToken)).body).toEqual(expected.top);
  expect((await api.get(SALES)).status).toBe(401);
}, 90_000);

test('When a rebuild is asked for, then version 2 catches up while version 1 answers, an order placed meanwhile counts once, version 2 takes over with no empty answer and version 1 is dropped', async () => {
  const api = served ? http(served.url) : await startService();
  const before = (await api.get(SALES, adminToken)).body as { orders: number; totalCents: number };
  const answers: Array<{ orders: number }> = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) answers.push((await api.get(SALES, adminToken)).body as { orders: number });
  })();

  const v2 = await requestRebuild(serviceDb.knex, 'analytics');
  expect(v2).toMatchObject({ version: 2, state: 'building' });
  // Live while version 2 is still reading the old history: v1 applies it at once, v2 in its turn.
  await eventually(versions, { timeoutMs: 10_000, intervalMs: 20, until: (v) => (v.find((x) => x.version === 2)?.offset ?? -1) > 1_000, what: 'version 2 under way' });
  const order = orderEvents(history.products, 3, Date.parse(`${LAST_DAY}T12:00:00Z`), 'confirmed');
  await publishEvents(namespace, order);
  await applyToModule(monolith.knex, order);

  const done = await eventually(versions, { timeoutMs: 60_000, intervalMs: 50, until: (v) => v.length === 1 && v[0].version === 2, what: 'version 2 live, version 1 dropped' });
  watching = false;
  await watcher;
  expect(done[0]).toMatchObject({ state: 'live', offset: history.events.length });
  const { rows } = await serviceDb.knex.raw(`SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'analytics_v%'`);
  expect(rows).toEqual([{ schema_name: 'analytics_v2' }]);

  const expected = await moduleFigures();
  expect(expected.sales.orders).toBe(before.orders + 1);
  expect((await api.get(SALES, adminToken)).body).toEqual(expected.sales);
  expect((await api.get(TOP, adminToken)).body).toEqual(expected.top);
  // Every answer during the rebuild came from a full model: the old figures or the new ones.
  expect(answers.length).toBeGreaterThan(5);
  expect(answers.every((a) => a.orders === before.orders || a.orders === before.orders + 1)).toBe(true);
}, 90_000);

test('When the service stops in the middle of a rebuild, then the next start resumes the building version from its offset and gives the same figures', async () => {
  let api = served ? http(served.url) : await startService();
  const before = (await api.get(SALES, adminToken)).body;
  await requestRebuild(serviceDb.knex, 'analytics');
  const partway = await eventually(versions, { timeoutMs: 10_000, intervalMs: 10, until: (v) => (v.find((x) => x.version === 3)?.offset ?? -1) > 2_000, what: 'version 3 under way' });
  await stopService();
  const stoppedAt = (await versions()).find((x) => x.version === 3)!;
  expect(stoppedAt.offset).toBeGreaterThanOrEqual(partway.find((x) => x.version === 3)!.offset);
  expect(stoppedAt.offset).toBeLessThan(history.events.length);

  api = await startService();
  const done = await eventually(versions, { timeoutMs: 60_000, intervalMs: 50, until: (v) => v.length === 1 && v[0].version === 3, what: 'version 3 live' });
  expect(done[0].applied).toBe(new Set(history.events.map((e) => e.id)).size + 1);
  expect((await api.get(SALES, adminToken)).body).toEqual(before);
}, 90_000);
