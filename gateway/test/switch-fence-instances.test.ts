import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { sleep, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, timeline, type Stub } from './support/stub';

/**
 * The switch fence across gateway instances (ADR 0303): two instances share one routing table.
 * A write that instance B sent to the monolith before the switch is still inside it when instance
 * A, where the switch was made, gets a write for the same domain: A holds it until B's write has
 * answered, then sends it to the service. Stub upstreams decide the timing.
 */
let monolith: Stub;
let service: Stub;
let db: TestDatabase;
let a: GatewayHarness;
let b: GatewayHarness;
const { arrived, finished, answer: timed } = timeline();

beforeAll(async () => {
  monolith = await startStub('monolith');
  service = await startStub('orders-service');
  db = await createTestDatabase('gw_fence_two');
  const env = { GATEWAY_SWITCH_SETTLE_MS: '50', GATEWAY_SWITCH_FENCE_MAX_MS: '4000' };
  a = await startGateway({ label: 'fence_a', monolith: monolith.url, services: { orders: service.url }, db, env });
  b = await startGateway({ label: 'fence_b', monolith: monolith.url, services: { orders: service.url }, db, env });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.drop();
  await monolith?.close();
  await service?.close();
});
beforeEach(async () => {
  monolith.behave(timed('monolith', 0));
  service.behave(timed('orders-service', 0));
  await a.route('orders', 'monolith');
  for (let i = 0; i < 200 && (a.gateway.fence.active || b.gateway.fence.active); i++) await sleep(20);
});

describe('The write fence with two gateway instances', () => {
  test('When instance B has a write in flight on the monolith as the switch lands, then a write to instance A waits for it and then goes to the service', async () => {
    monolith.behave(timed('monolith', 1_000));
    const onB = b.api.post('/api/orders', { n: 'b-in-flight' });
    await sleep(100); // B's write is inside the monolith

    const switched = Date.now();
    await a.route('orders', 'extracted');
    const onA = await a.api.post('/api/orders', { n: 'a-after-switch' });

    expect(onA.body.served).toBe('orders-service');
    expect((await onB).body.served).toBe('monolith');
    // A's own in-flight writes were none and the settle period is 50 ms: only B's write kept it.
    const bDone = finished.get(JSON.stringify({ n: 'b-in-flight' }))!;
    const aIn = arrived.get(JSON.stringify({ n: 'a-after-switch' }))!;
    expect(aIn).toBeGreaterThanOrEqual(bDone);
    expect(aIn - switched).toBeLessThan(3_500); // released by B's answer, not by the bound
  });

  test('When an instance stopped reporting (it crashed), then the others do not wait for it', async () => {
    // Injected: a row of an instance that last reported 10 s ago, still claiming old-side writes.
    await db.knex('gateway.instances').insert({ id: 'crashed-instance', table_version: 0, writing_old: ['orders'], seen_at: db.knex.raw(`now() - interval '10 seconds'`) });
    const switched = Date.now();
    await a.route('orders', 'extracted');
    const onA = await a.api.post('/api/orders', { n: 'after-crash' });
    expect(onA.body.served).toBe('orders-service');
    expect(Date.now() - switched).toBeLessThan(2_000);
  });

  test('Each instance reports itself: the version it routes by, and no old-side write once its own have answered', async () => {
    await a.route('orders', 'extracted');
    for (let i = 0; i < 200 && (a.gateway.fence.active || b.gateway.fence.active); i++) await sleep(20);
    await sleep(1_200); // one heartbeat
    const rows = await db.knex('gateway.instances').where('seen_at', '>', db.knex.raw(`now() - interval '3 seconds'`)).select('table_version', 'writing_old');
    const version = a.gateway.table().version;
    expect(rows.map((r) => ({ version: Number(r.table_version), writingOld: r.writing_old }))).toEqual([
      { version, writingOld: [] },
      { version, writingOld: [] },
    ]);
  });
});
