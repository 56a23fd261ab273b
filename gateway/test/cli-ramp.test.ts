import { banyan } from './support/cli';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/** Orders declares a sync: its databases are absent here, so no one else's outbox decides its preflight. */
const NO_SYNC_DATABASES = { MONOLITH_DATABASE: 'banyan_test_absent_monolith', ORDERS_DATABASE: 'banyan_test_absent_orders' };

/** `banyan ramp` against a real gateway whose orders service is a stub that answers. */
describe('banyan ramp / ramp status / ramp abort', () => {
  let monolith: Stub;
  let orders: Stub;
  let gw: GatewayHarness;
  let env: Record<string, string>;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    orders = await startStub('orders-service');
    gw = await startGateway({ label: 'gw_cli_ramp', monolith: monolith.url, services: { orders: orders.url }, env: { GATEWAY_RAMP_TICK_MS: '50', ...NO_SYNC_DATABASES } });
    env = { BANYAN_ADMIN_URL: gw.adminUrl, BANYAN_ADMIN_TOKEN: ADMIN_TOKEN };
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([monolith, orders].map((s) => s?.close()));
  });

  test('`banyan ramp orders` follows the ramp, printing each verdict, and exits 0 when it completes (1 when it rolls back)', async () => {
    let reading = true;
    let n = 0;
    const reader = (async () => {
      while (reading) await (await fetch(`${gw.url}/api/orders/1`, { headers: { cookie: `banyan_sticky=c${n++}` } })).text();
    })();
    try {
      const done = await banyan(['ramp', 'orders', '--steps', '50,100', '--hold', '300ms', '--min-requests', '3', '--p99-floor', '1s'], env);
      expect([done.code, done.err]).toEqual([0, '']);
      expect(done.out).toMatch(
        /^ramp \d+ of orders: 50% → 100%, holding 0\.3 s each\n  50%: passed \(new side: \d+ requests, errors 0\.0%, p99 \d+ ms\)\n  100%: passed \(new side: \d+ requests, errors 0\.0%, p99 \d+ ms\)\nramp \d+: completed; orders is at 100%$/,
      );
      expect(gw.gateway.table().rows.get('orders')).toMatchObject({ mode: 'extracted' });

      await gw.route('orders', 'monolith');
      orders.behave((req, res) => {
        res.statusCode = 503;
        res.end();
      });
      const back = await banyan(['ramp', 'orders', '--steps', '50,100', '--hold', '300ms', '--min-requests', '3'], env);
      expect(back.code).toBe(1);
      expect(back.err).toMatch(/^banyan: ramp \d+: rolled-back: preflight failed: ready: .*\/readyz answered 503/);
      expect(gw.gateway.table().rows.get('orders')).toMatchObject({ mode: 'monolith' });
    } finally {
      orders.behave('ok');
      reading = false;
      await reader;
    }
  });

  test('Bad steps, holds and rates are refused before anything is sent', async () => {
    const before = (await gw.adminApi.get('/ramps')).body.items.length;
    for (const [args, message] of [
      [['--steps', '0,50'], /--steps <list>' argument '0,50' is invalid\. percents from 1 to 100/],
      [['--hold', '2'], /'--hold <duration>' argument '2' is invalid\. a duration with its unit/],
      [['--max-error-rate', '150%'], /a rate from 0 to 1, or a percent/],
    ] as const) {
      const res = await banyan(['ramp', 'orders', ...args], env);
      expect([res.code, res.err]).toEqual([1, expect.stringMatching(message)]);
    }
    expect((await banyan(['ramp', 'bananas'], env)).err).toMatch(/^banyan: Unknown domain "bananas"/);
    expect((await gw.adminApi.get('/ramps')).body.items).toHaveLength(before);
  });

  test('`banyan ramp orders --detach` starts it with the flags as thresholds; status shows it; abort routes back', async () => {
    const started = await banyan(['ramp', 'orders', '--steps', '10,100', '--hold', '10m', '--max-error-rate', '2%', '--min-requests', '50', '--detach'], env);
    expect(started).toMatchObject({ code: 0, err: '' });
    expect(started.out).toMatch(/^ramp (\d+) of orders: 10% → 100%, holding 600 s each\nFollow it with: banyan ramp status orders$/);
    const [ramp] = (await gw.adminApi.get('/ramps?domain=orders')).body.items;
    expect(ramp).toMatchObject({ key: 'orders', steps: [10, 100], holdMs: 600_000, thresholds: { maxErrorRate: 0.02, minRequests: 50, maxP99Ratio: 2, p99FloorMs: 100 } });
    for (let i = 0; i < 100 && gw.gateway.table().rows.get('orders')!.mode !== 'canary'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(gw.gateway.table().rows.get('orders')).toMatchObject({ mode: 'canary', percent: 10 });

    const status = await banyan(['ramp', 'status', 'orders'], env);
    expect(status.code).toBe(0);
    const lines = status.out.split('\n');
    expect(lines[0]).toMatch(/^RAMP\s+OF\s+STATUS\s+STEPS\s+HOLD\s+DRIVER \/ REASON$/);
    expect(lines[2]).toMatch(new RegExp(`^${ramp.id}\\s+orders\\s+running\\s+\\[10%\\] 100%\\s+600 s\\s+[0-9a-f-]{36}$`));

    const again = await banyan(['ramp', 'orders', '--detach'], env);
    expect([again.code, again.err]).toEqual([2, expect.stringMatching(/^banyan: the gateway answered 409: A ramp of orders is running already/)]);

    const aborted = await banyan(['ramp', 'abort', 'orders'], env);
    expect(aborted).toMatchObject({ code: 0, out: `ramp ${ramp.id} of orders: aborted; routed back to where it started` });
    expect(gw.gateway.table().rows.get('orders')).toMatchObject({ mode: 'monolith' });
    expect((await banyan(['ramp', 'abort', 'orders'], env)).err).toBe('banyan: no ramp of orders is running');
  });
});
