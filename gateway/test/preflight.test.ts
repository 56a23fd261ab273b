import { defineMigration } from '@banyan/migration';
import { reportVerifyToGateway } from '../../packages/cli/src/commands/verify-record';
import { banyan } from './support/cli';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/**
 * The preflight of a switch (docs/gateway.md#preflight), through a real gateway in front of stub
 * services: `tickets` has no data sync; `stock` declares one, whose databases do not exist here
 * (nothing there can lag), so its verify record decides.
 */
const declaration = (monolith: string, tickets: string, stock: string) =>
  defineMigration({
    name: 'Preflight',
    monolith: { url: monolith, database: 'banyan_test_preflight_no_monolith' },
    domains: {
      tickets: { prefixes: ['/api/tickets'], service: { url: tickets } },
      stock: {
        prefixes: ['/api/stock'],
        service: { url: stock, database: 'banyan_test_preflight_no_stock' },
        data: { tables: [{ source: 'stock.items', target: 'stock.items', key: 'id', columns: ['id', 'version'], version: 'version', aggregateType: 'stock' }] },
      },
    },
  });

describe('Preflight on every switch', () => {
  let monolith: Stub;
  let tickets: Stub;
  let stock: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    tickets = await startStub('tickets-service');
    stock = await startStub('stock-service');
    gw = await startGateway({ label: 'gw_preflight', declaration: declaration(monolith.url, tickets.url, stock.url), env: { GATEWAY_BREAKER_VOLUME: '3' } });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([monolith, tickets, stock].map((s) => s?.close()));
  });

  const mode = (domain: string) => gw.gateway.table().rows.get(domain)!.mode;

  test('When the target is healthy, then the switch passes its preflight quickly, and says which checks could not apply', async () => {
    const res = await gw.adminApi.put('/routes/tickets', { mode: 'canary', percent: 10 });

    expect(res.status).toBe(200);
    expect(res.body.preflight).toMatchObject({ side: 'extracted', ok: true });
    expect(res.body.preflight.ms).toBeLessThan(500);
    expect(res.body.preflight.checks).toEqual([
      { check: 'ready', ok: true, detail: `${tickets.url}/readyz answered 200` },
      { check: 'breaker', ok: true, detail: `the breaker of ${new URL(tickets.url).host} is closed` },
      { check: 'sync-lag', ok: true, skipped: true, detail: 'tickets declares no data sync: nothing can lag' },
      { check: 'verify', ok: true, skipped: true, detail: 'tickets declares no data spec: nothing to verify' },
    ]);
    expect(tickets.probes.length).toBe(1);
    // Back to the monolith: its own preflight (the monolith healthy), nothing forced.
    expect((await gw.adminApi.put('/routes/tickets', { mode: 'monolith' })).body.preflight).toMatchObject({ side: 'monolith', ok: true });
  });

  test('When the target is down, then the switch is refused (409) with the reason and nothing changes; forced, it goes through and is audited as forced', async () => {
    await tickets.stop();
    try {
      const version = gw.gateway.table().version;
      const refused = await gw.adminApi.put('/routes/tickets', { mode: 'extracted' });

      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ code: 'GATEWAY.PREFLIGHT_FAILED', side: 'extracted' });
      expect(refused.body.detail).toMatch(/^tickets → extracted refused by its preflight: ready: http:\/\/127\.0\.0\.1:\d+\/readyz cannot be reached \(ECONNREFUSED\)\. Send "force": true/);
      expect(refused.body.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check)).toEqual(['ready']);
      expect([gw.gateway.table().version, mode('tickets')]).toEqual([version, 'monolith']);

      const forced = await gw.adminApi.put('/routes/tickets', { mode: 'extracted', force: true }, { 'x-banyan-actor': 'bob@ops' });
      expect(forced.status).toBe(200);
      expect(forced.body.preflight.ok).toBe(false);
      expect(mode('tickets')).toBe('extracted');
      const audit = (await gw.adminApi.get('/audit?domain=tickets')).body.items[0];
      expect(audit).toMatchObject({ to: { mode: 'extracted', percent: 0 }, actor: 'bob@ops' });
      expect(audit.note).toMatch(/^forced past a failed preflight: ready: .*cannot be reached \(ECONNREFUSED\)/);

      // The way back is never held up by the side it leaves: the monolith's preflight is the one asked.
      expect((await gw.adminApi.put('/routes/tickets', { mode: 'monolith' })).status).toBe(200);
    } finally {
      await tickets.restart();
    }
  });

  test("When the target says it is not ready, or its breaker is open, then each is a reason of the refusal", async () => {
    tickets.behave((req, res) => {
      res.statusCode = 503;
      res.end(req.url === '/readyz' ? '{"status":"not ready","checks":{"database":false}}' : 'down');
    });
    const notReady = await gw.adminApi.put('/routes/tickets', { mode: 'canary', percent: 50 });
    expect(notReady.body.checks[0]).toEqual({ check: 'ready', ok: false, detail: `${tickets.url}/readyz answered 503: {"status":"not ready","checks":{"database":false}}` });

    // Forced to the service, reads fail there until its breaker opens (3 requests, GATEWAY_BREAKER_VOLUME).
    await gw.adminApi.put('/routes/tickets', { mode: 'extracted', force: true });
    for (let i = 0; i < 6; i++) await gw.api.get('/api/tickets/1');
    await gw.adminApi.put('/routes/tickets', { mode: 'monolith' });
    tickets.behave('ok');
    const open = await gw.adminApi.put('/routes/tickets', { mode: 'extracted' });
    expect(open.status).toBe(409);
    expect(open.body.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([{ check: 'breaker', ok: false, detail: `the breaker of ${new URL(tickets.url).host} is open: it failed recently` }]);
  });

  test("When the domain's last verify found differences, then its switch is refused until a clean one is recorded", async () => {
    const record = (differences: number) =>
      gw.db.knex('gateway.verify_runs').insert({ domain: 'stock', started_at: new Date(), finished_at: new Date(), compared: 40, differences, recorded_by: 'test' });
    await record(3);
    const refused = await gw.adminApi.put('/routes/stock', { mode: 'canary', percent: 5 });
    expect(refused.status).toBe(409);
    const failed = refused.body.checks.filter((c: { ok: boolean }) => !c.ok);
    expect(failed).toEqual([{ check: 'verify', ok: false, detail: expect.stringMatching(/^the last verify \(.+, by test\) found 3 differences in 40 rows$/) }]);
    // Its sync is declared but its databases do not exist here: nothing waits, so it does not lag.
    expect(refused.body.checks.find((c: { check: string }) => c.check === 'sync-lag')).toMatchObject({ ok: true, detail: expect.stringMatching(/^the extracted side is 0 ms behind/) });

    await record(0);
    expect((await gw.adminApi.put('/routes/stock', { mode: 'canary', percent: 5 })).status).toBe(200);
  });

  test('`banyan verify` reports its result to the gateway, and the next switch is judged by it', async () => {
    const env = { BANYAN_ADMIN_URL: gw.adminUrl, BANYAN_ADMIN_TOKEN: ADMIN_TOKEN };
    await reportVerifyToGateway('stock', { startedAt: new Date(), compared: 12, differences: 2 }, env);
    const refused = await gw.adminApi.put('/routes/stock', { mode: 'canary', percent: 20 });
    expect(refused.body.checks.find((c: { check: string }) => c.check === 'verify').detail).toMatch(/^the last verify \(.+, by cli [^)]+@[^)]+\) found 2 differences in 12 rows$/);

    // Without a token, or with no gateway there, verify says nothing and records nothing.
    await reportVerifyToGateway('stock', { startedAt: new Date(), compared: 12, differences: 0 }, { BANYAN_ADMIN_URL: gw.adminUrl });
    await reportVerifyToGateway('stock', { startedAt: new Date(), compared: 12, differences: 0 }, { BANYAN_ADMIN_URL: 'http://127.0.0.1:1', BANYAN_ADMIN_TOKEN: ADMIN_TOKEN });
    expect((await gw.adminApi.put('/routes/stock', { mode: 'canary', percent: 20 })).status).toBe(409);

    const bad = await gw.adminApi.put('/verify/stock/result', { compared: -1 });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION.FAILED']);
    const noSpec = await gw.adminApi.put('/verify/tickets/result', { startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), compared: 1, differences: 0 });
    expect([noSpec.status, noSpec.body.code]).toEqual([404, 'GATEWAY.NO_SYNC_SPEC']);

    await reportVerifyToGateway('stock', { startedAt: new Date(), compared: 12, differences: 0 }, env);
    expect((await gw.adminApi.put('/routes/stock', { mode: 'canary', percent: 20 })).status).toBe(200);
  });

});

describe('banyan route and the preflight', () => {
  let monolith: Stub;
  let orders: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    orders = await startStub('orders-service');
    // Orders declares a sync: its databases are absent here, so no one else's outbox decides its preflight.
    gw = await startGateway({ label: 'gw_preflight_cli', monolith: monolith.url, services: { orders: orders.url }, env: { MONOLITH_DATABASE: 'banyan_test_absent_monolith', ORDERS_DATABASE: 'banyan_test_absent_orders' } });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([monolith, orders].map((s) => s?.close()));
  });

  test('`banyan route` to a service that is down is refused (exit 2) with the reason; `--force` switches and prints the failed checks', async () => {
    const env = { BANYAN_ADMIN_URL: gw.adminUrl, BANYAN_ADMIN_TOKEN: ADMIN_TOKEN };
    await orders.stop();
    const refused = await banyan(['route', 'orders', 'extracted'], env);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^banyan: the gateway answered 409: orders → extracted refused by its preflight: ready: http:\/\/127\.0\.0\.1:\d+\/readyz cannot be reached \(ECONNREFUSED\)/);
    expect(gw.gateway.table().rows.get('orders')!.mode).toBe('monolith');

    const forced = await banyan(['route', 'orders', 'extracted', '--force'], env);
    expect(forced.code).toBe(0);
    expect(forced.out).toMatch(/^orders: monolith → extracted \(version \d+\)\npreflight of the extracted side FAILED; switched anyway \(--force, audited\):\n  FAIL  ready: /);
    expect(gw.gateway.table().rows.get('orders')!.mode).toBe('extracted');
  });
});
