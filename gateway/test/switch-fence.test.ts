import { createLogger } from '@banyan/telemetry';
import { serve, type Served } from '@banyan/http';
import { createTestDatabase, http, type TestDatabase } from '@banyan/testing';
import { buildGateway, gatewayConfigSchema, listen, type Gateway, type Mode } from '../src';
import { shopMigration } from './support/declaration';
import { ADMIN_TOKEN, adminClient, sleep } from './support/gateway';
import { startStub, timeline, type Stub } from './support/stub';

/**
 * The write fence of a switch (ADR 0303), with stub upstreams slow on purpose so the order of
 * events is decided by the test, not by the scheduler: the monolith takes a write and answers
 * late; the switch lands meanwhile; a write arriving after the switch must wait for the first
 * one, then go to the new side.
 */
const SETTLE_MS = 150;
let monolith: Stub;
let service: Stub;
let db: TestDatabase;
let gateway: Gateway;
let served: Served;
let admin: Served;
let api: ReturnType<typeof http>;
/** What the fake outbox says: drained or not (the real one is read in the products drill). */
let outboxDrained = true;
const asked: string[][] = [];

/** When each stub received and finished answering each request, by body marker, to order the two sides. */
const { arrived, finished, answer } = timeline();
const slow = answer;
const quick = (name: string) => answer(name);

async function route(mode: Mode, percent?: number) {
  const res = await adminClient(admin.url).put('/routes/orders', percent === undefined ? { mode } : { mode, percent });
  if (res.status !== 200) throw new Error(`route: ${res.status} ${res.text}`);
}
const metric = async (name: string) => {
  const text = (await adminClient(admin.url).get('/metrics')).text;
  return text.split('\n').filter((l) => l.startsWith(name));
};

beforeAll(async () => {
  monolith = await startStub('monolith');
  service = await startStub('orders-service');
  db = await createTestDatabase('gw_fence');
  const env = {
    ...process.env,
    BANYAN_ADMIN_TOKEN: ADMIN_TOKEN,
    GATEWAY_DATABASE: db.settings.database,
    MONOLITH_URL: monolith.url,
    ORDERS_SERVICE_URL: service.url,
    GATEWAY_SWITCH_SETTLE_MS: String(SETTLE_MS),
    GATEWAY_SWITCH_FENCE_MAX_MS: '1500',
  };
  const config = gatewayConfigSchema.parse(env);
  const logger = createLogger('gateway-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  gateway = buildGateway({
    config,
    migration: shopMigration(env),
    logger,
    knex: db.knex,
    connection: db.settings,
    outboxDrained: async (_domain, sides) => {
      asked.push(sides);
      return outboxDrained;
    },
  });
  await gateway.start();
  served = await listen(gateway.handler, 0);
  admin = await serve(gateway.adminApp, 0);
  api = http(served.url);
});
afterAll(async () => {
  await served?.close(1_000);
  await admin?.close(1_000);
  await gateway?.stop();
  await db?.drop();
  await monolith?.close();
  await service?.close();
});
beforeEach(async () => {
  monolith.behave(quick('monolith'));
  service.behave(quick('orders-service'));
  outboxDrained = true;
  asked.length = 0;
  await route('monolith');
  // Let a fence raised by the reset come down before the test starts.
  for (let i = 0; i < 100 && gateway.fence.active; i++) await sleep(20);
});

describe('The write fence of a switch', () => {
  test('When a POST is in flight on the monolith during a switch, then a POST arriving during the switch waits for it and then goes to the service', async () => {
    monolith.behave(slow('monolith', 500));
    const first = api.post('/api/orders', { n: 'first' });
    await sleep(100); // the first write is inside the monolith
    await route('extracted');
    expect(gateway.fence.isFenced('orders')).toBe(true);
    const second = await api.post('/api/orders', { n: 'second' });

    const one = await first;
    expect(one.body.served).toBe('monolith');
    expect(second.status).toBe(200);
    expect(second.body.served).toBe('orders-service');
    expect(second.headers.get('x-banyan-route')).toBe('extracted; mode=extracted');
    // Ordering: the second write reached the service only after the first had answered, and after
    // the settle period that lets the first one's event be applied on the service's side.
    const firstDone = finished.get(JSON.stringify({ n: 'first' }))!;
    const secondIn = arrived.get(JSON.stringify({ n: 'second' }))!;
    expect(secondIn - firstDone).toBeGreaterThanOrEqual(SETTLE_MS - 5);
    // The outbox asked about is the old side's: the monolith's.
    expect(asked).toContainEqual(['monolith']);
    expect(await metric('banyan_gateway_switch_fences_total{domain="orders",outcome="settled"}')).not.toEqual([]);
  });

  test('When the old side\'s outbox still holds the domain\'s events, then held writes wait until it is drained', async () => {
    outboxDrained = false;
    await route('extracted');
    const held = api.post('/api/orders', { n: 'outbox' });
    await sleep(300);
    expect(arrived.has(JSON.stringify({ n: 'outbox' }))).toBe(false);
    const drainedAt = Date.now();
    outboxDrained = true;
    const res = await held;
    expect(res.body.served).toBe('orders-service');
    expect(arrived.get(JSON.stringify({ n: 'outbox' }))! - drainedAt).toBeGreaterThanOrEqual(SETTLE_MS - 5);
  });

  test('When a switch is in progress, then GETs are not held', async () => {
    monolith.behave(slow('monolith', 800));
    const write = api.post('/api/orders', { n: 'slow-write' });
    await sleep(100);
    await route('extracted');
    expect(gateway.fence.active).toBe(true);
    const started = Date.now();
    const read = await api.get('/api/orders/1');
    expect(read.body.served).toBe('orders-service');
    expect(Date.now() - started).toBeLessThan(200);
    expect(gateway.fence.active).toBe(true);
    await write;
  });

  test('When the old side does not settle within the upper bound, then held writes proceed and the timeout is counted', async () => {
    monolith.behave(slow('monolith', 2500)); // longer than GATEWAY_SWITCH_FENCE_MAX_MS (1500)
    const stuck = api.post('/api/orders', { n: 'stuck' });
    await sleep(100);
    const switched = Date.now();
    await route('extracted');
    const held = await api.post('/api/orders', { n: 'bounded' });
    expect(held.body.served).toBe('orders-service');
    const waited = Date.now() - switched;
    expect(waited).toBeGreaterThanOrEqual(1_400);
    expect(waited).toBeLessThan(2_300); // released by the bound, not by the stuck write
    expect(finished.has(JSON.stringify({ n: 'stuck' }))).toBe(false);
    expect(await metric('banyan_gateway_switch_fences_total{domain="orders",outcome="timeout"} 1')).toHaveLength(1);
    await stuck;
  });

  test('When no switch is in progress, then writes are not held and the fence costs nothing but its flag', async () => {
    expect(gateway.fence.active).toBe(false);
    const before = await metric('banyan_gateway_switch_fence_held_requests_total');
    const started = Date.now();
    for (let i = 0; i < 20; i++) expect((await api.post('/api/orders', { n: `plain-${i}` })).body.served).toBe('monolith');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(gateway.fence.active).toBe(false);
    expect(gateway.fence.inFlight('orders')).toBe(0);
    // A change that leaves the writes where they are (shadow writes on the monolith) raises nothing.
    await route('shadow');
    expect(gateway.fence.active).toBe(false);
    expect(await metric('banyan_gateway_switch_fence_held_requests_total')).toEqual(before);
  });

  test('When a canary\'s percent changes, then no write is fenced (a canary splits reads; writes stay on the monolith, ADR 0304)', async () => {
    await route('canary', 10);
    for (let i = 0; i < 100 && gateway.fence.active; i++) await sleep(20);
    await route('canary', 50);
    expect(gateway.fence.active).toBe(false);
    const write = await api.post('/api/orders', { n: 'canary' });
    expect(write.body.served).toBe('monolith');
  });

  test('When a canary at 90 % is switched to extracted, then writes are fenced: they move from the monolith to the service', async () => {
    await route('canary', 90);
    for (let i = 0; i < 100 && gateway.fence.active; i++) await sleep(20);
    asked.length = 0;
    await route('extracted');
    expect(gateway.fence.isFenced('orders')).toBe(true);
    expect((await api.post('/api/orders', { n: 'after-canary' })).body.served).toBe('orders-service');
    expect(asked).toContainEqual(['monolith']);
  });
});

/**
 * Routing followers (ADR 0303, third amendment): a process whose in-process doors route writes by
 * this table (the monolith) reports through the admin API what it routes by and what it still has
 * in flight to an old side; the fence waits for it as for another gateway instance.
 */
describe('The write fence and the routing followers', () => {
  const admin_ = () => adminClient(admin.url);
  const follower = (id: string, version: number, writingOld: string[] = []) => admin_().put(`/followers/${id}`, { version, writingOld });
  const version = async () => (await admin_().get('/routes')).body.version as number;
  afterEach(async () => {
    for (const id of ['door-a', 'door-b']) await admin_().delete(`/followers/${id}`);
  });

  test('When a follower still routes by the old table, or still writes to the old side, then held writes wait for it; once it reports the switch with nothing old in flight they go', async () => {
    const timeouts = await metric('banyan_gateway_switch_fences_total{domain="orders",outcome="timeout"}');
    await follower('door-a', await version());
    await route('extracted');
    const switched = await version();
    const held = api.post('/api/orders', { n: 'after-follower' });
    await sleep(250);
    expect(arrived.has(JSON.stringify({ n: 'after-follower' }))).toBe(false); // it has not seen the switch

    await follower('door-a', switched, ['orders']);
    await sleep(250);
    expect(arrived.has(JSON.stringify({ n: 'after-follower' }))).toBe(false); // it has, but writes to the monolith still

    const doneAt = Date.now();
    expect((await follower('door-a', switched, [])).status).toBe(204);
    const res = await held;
    expect(res.body.served).toBe('orders-service');
    expect(arrived.get(JSON.stringify({ n: 'after-follower' }))! - doneAt).toBeLessThan(1_000);
    // Released by the follower's report, not by the bound.
    expect(await metric('banyan_gateway_switch_fences_total{domain="orders",outcome="timeout"}')).toEqual(timeouts);
  });

  test('When a follower goes silent, or leaves, then it is not waited for', async () => {
    await follower('door-b', 0, ['orders']); // never catches up, then falls silent
    await sleep(3_200); // more than the 3 s a report keeps a follower alive
    const silentAt = Date.now();
    await route('extracted');
    expect((await api.post('/api/orders', { n: 'silent-follower' })).body.served).toBe('orders-service');
    expect(Date.now() - silentAt).toBeLessThan(1_000); // under the 1.5 s bound: not waited for

    await route('monolith');
    for (let i = 0; i < 100 && gateway.fence.active; i++) await sleep(20);
    await follower('door-b', 0, ['orders']);
    expect((await admin_().delete('/followers/door-b')).status).toBe(204);
    const leftAt = Date.now();
    await route('extracted');
    expect((await api.post('/api/orders', { n: 'left-follower' })).body.served).toBe('orders-service');
    expect(Date.now() - leftAt).toBeLessThan(1_000);
  }, 15_000);

  test('When a read of the table asks to be held past its version, then it answers at the switch, fenced, and the fence shows until it comes down', async () => {
    const before = await version();
    const held = admin_().get(`/routes?after=${before}&waitMs=5000`);
    await sleep(200);
    const switchedAt = Date.now();
    await route('extracted');
    const answer = await held;
    expect(Date.now() - switchedAt).toBeLessThan(500);
    expect(answer.body.version).toBeGreaterThan(before);
    const orders = answer.body.routes.find((r: { domain: string }) => r.domain === 'orders');
    expect(orders).toMatchObject({ mode: 'extracted', fenced: true });
    for (let i = 0; i < 100 && gateway.fence.active; i++) await sleep(20);
    expect((await admin_().get('/routes')).body.routes.find((r: { domain: string }) => r.domain === 'orders').fenced).toBe(false);

    // Already past: answered at once. Nothing changes: answered when the hold runs out.
    const now = await version();
    const quickAt = Date.now();
    expect((await admin_().get(`/routes?after=${now - 1}&waitMs=5000`)).status).toBe(200);
    expect(Date.now() - quickAt).toBeLessThan(300);
    const idleAt = Date.now();
    expect((await admin_().get(`/routes?after=${now}&waitMs=300`)).body.version).toBe(now);
    expect(Date.now() - idleAt).toBeGreaterThanOrEqual(290);
  });

  test('When a follower report is malformed, names an unknown domain or has no token, then it is refused with its problem and nothing is recorded', async () => {
    const bad = [
      await admin_().put('/followers/door-a', { version: -1, writingOld: [] }),
      await admin_().put('/followers/door-a', { version: 1, writingOld: ['books'] }),
      await admin_().put('/followers/has%20space', { version: 1, writingOld: [] }),
      await admin_().get('/routes?waitMs=999999'),
      await adminClient(admin.url, null).put('/followers/door-a', { version: 1, writingOld: [] }),
    ];
    expect(bad.map((r) => [r.status, r.body.code])).toEqual([
      [400, 'VALIDATION.FAILED'],
      [400, 'GATEWAY.UNKNOWN_DOMAIN'],
      [400, 'VALIDATION.FAILED'],
      [400, 'VALIDATION.FAILED'],
      [401, 'AUTH.UNAUTHORIZED'],
    ]);
    expect(await db.knex('gateway.instances').where('id', 'like', 'follower:%').count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
  });
});
