import { v7 as uuidv7 } from 'uuid';
import type { EventEnvelope } from '@banyan/events';
import { names } from '@banyan/messaging';
import { compareTargets, gatewaySide, renderReport } from '@banyan/parity';
import { notificationScenarios } from '../../../migration/parity/notifications';
import { eventually } from '@banyan/testing';
import { backfill, loadSyncSpec, verify } from '@banyan/sync';
import { ADMIN_TOKEN } from '../../../gateway/test/support/gateway';
import { publishEvent, sleep } from './support';
import { startNotificationsSystem, type NotificationsSystem } from './system';
import { shopParityAuth } from '../../../migration/parity/auth';

/**
 * The extraction drill for notifications, end to end through a real gateway with both
 * relays running and real SMTP servers: backfill and verify; switch to the service, back and again
 * while a loop places orders through the gateway, then count the emails per order; the contract
 * scenarios on both sides in every routing mode; a redelivered order.created in both modes.
 */
const GOOD = '4242424242424242';
const DECLINED = '4000000000000002';

let system: NotificationsSystem;
let customer: { token: string; email: string };
beforeAll(async () => {
  system = await startNotificationsSystem('notif_e2e');
  const email = `notif-e2e-${Date.now()}@example.com`;
  expect((await system.gateway.api.post('/api/users', { email, password: 'correct horse battery', name: 'Mailed' })).status).toBe(201);
  customer = { email, token: (await system.gateway.api.post('/api/users/login', { email, password: 'correct horse battery' })).body.token };
}, 30_000);
afterAll(() => system?.close(), 30_000);

const spec = loadSyncSpec('notifications');
const stores = () => ({ source: system.mono.db.knex, target: system.service.db.knex });
const api = () => system.gateway.api;

async function product(): Promise<string> {
  const res = await api().post('/api/products', { sku: `NOTIF-E2E-${uuidv7()}`, name: 'Teapot', priceCents: 1250, stock: 100_000 }, system.adminToken);
  if (res.status !== 201) throw new Error(`product: ${res.status} ${res.text}`);
  return res.body.id;
}
/** Place an order through the gateway; its id when acknowledged (201, or 402 for a declined card), else undefined. */
async function order(productId: string, card: string): Promise<string | undefined> {
  const res = await api().post('/api/orders', { items: [{ productId, quantity: 1 }], card: { number: card } }, customer.token);
  if (res.status === 201) return res.body.id;
  if (res.status === 402 && res.body.code === 'PAYMENTS.DECLINED') return res.body.orderId;
  return undefined;
}
/** The emails about one order, from either side: the body names the order's full id. */
const mailsAbout = (orderId: string) => system.mails().filter((m) => m.text.includes(orderId));
const rowsFor = (side: 'monolith' | 'service', orderIds: string[]) =>
  (side === 'monolith' ? system.mono.db : system.service.db).knex('notifications.notifications').whereIn('order_id', orderIds).select('id', 'order_id', 'status');

describe('notifications extracted, end to end through the gateway', () => {
  test('When the service’s store starts without the monolith’s notifications, then backfill copies the sent ones, verify finds 0 differences, and nobody is mailed again', async () => {
    // Arrange: emails the monolith sent, which reach the service by events; then the service's
    // table is emptied, standing for a service whose database was created after them.
    const item = await product();
    const orders = [await order(item, GOOD), await order(item, DECLINED), await order(item, GOOD)] as string[];
    expect(orders.every(Boolean)).toBe(true);
    await eventually(() => rowsFor('service', orders), { until: (rows) => rows.length === 3, timeoutMs: 10_000 });
    await system.service.db.knex('notifications.notifications').delete();
    expect((await verify(spec, stores())).differences.length).toBeGreaterThanOrEqual(3);

    const result = await backfill(spec, stores());

    expect(result.written).toBeGreaterThanOrEqual(3);
    expect((await verify(spec, stores())).differences).toEqual([]);
    expect((await rowsFor('service', orders)).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    // The copies arrived `sent`: the service's sender (300 ms sweep) has nothing to mail.
    await sleep(1_000);
    for (const orderId of orders) expect(mailsAbout(orderId).map((m) => m.side)).toEqual(['monolith']);
  });

  test('When notifications is switched to the service, back, and again while orders continue, then every acknowledged order got exactly one email, both stores agree and verify finds 0 differences', async () => {
    const item = await product();
    const acknowledged: string[] = [];
    const refused: string[] = [];
    let running = true;
    let n = 0;
    const loop = (async () => {
      while (running) {
        n++;
        if (n % 4 === 3) {
          // A read through the gateway, served by whichever side the route names at that moment.
          const res = await api().get('/api/notifications?limit=5', customer.token);
          if (res.status !== 200) refused.push(`read ${res.status}`);
          continue;
        }
        const id = await order(item, n % 4 === 2 ? DECLINED : GOOD);
        if (id) acknowledged.push(id);
        else refused.push(`order #${n}`);
      }
    })();

    await sleep(1500);
    await system.gateway.route('notifications', 'extracted');
    await sleep(2500);
    await system.gateway.route('notifications', 'monolith');
    await sleep(2500);
    await system.gateway.route('notifications', 'extracted');
    await sleep(2500);
    running = false;
    await loop;

    // Assert: every order mailed; then, long enough for a second email to go out had one been
    // recorded (both senders are kicked on commit), still exactly one each.
    expect(refused).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(20);
    await eventually(() => acknowledged.filter((id) => mailsAbout(id).length === 0), { until: (missing) => missing.length === 0, timeoutMs: 20_000 });
    await eventually(async () => (await verify(spec, stores())).differences, { until: (d) => d.length === 0, timeoutMs: 20_000 });
    await sleep(1_000);
    const perOrder = acknowledged.map((id) => [id, mailsAbout(id).length]);
    expect(perOrder.filter(([, count]) => count !== 1)).toEqual([]);
    if (process.env.LOAD_DEBUG) console.log({ n, orders: acknowledged.length, bySide: system.mails().reduce<Record<string, number>>((c, m) => ({ ...c, [m.side]: (c[m.side] ?? 0) + 1 }), {}) });
    // Both sides sent some of them: the service while extracted, the monolith before and in between.
    const senders = new Set(acknowledged.map((id) => mailsAbout(id)[0].side));
    expect([...senders].sort()).toEqual(['monolith', 'service']);
    // One row per order on each side, the same row, sent.
    for (const side of ['monolith', 'service'] as const) {
      const rows = await rowsFor(side, acknowledged);
      expect(rows).toHaveLength(acknowledged.length);
      expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    }
    const byOrder = (rows: Array<{ id: string; order_id: string }>) => Object.fromEntries(rows.map((r) => [r.order_id, r.id]));
    expect(byOrder(await rowsFor('service', acknowledged))).toEqual(byOrder(await rowsFor('monolith', acknowledged)));
  }, 60_000);

  test('When the notifications scenarios run on the monolith side and on the service side through the gateway, then they are identical in every routing mode (monolith, shadow, canary 50, extracted)', async () => {
    const side = (s: 'monolith' | 'extracted') =>
      gatewaySide({ gatewayUrl: system.gateway.url, side: s, domain: 'notifications', prefixes: ['/api/notifications'], gatewayToken: ADMIN_TOKEN, auth: shopParityAuth, adminToken: system.adminToken });

    for (const [mode, percent] of [['monolith'], ['shadow'], ['canary', 50], ['extracted']] as const) {
      await system.route(mode, percent);
      const report = await compareTargets(notificationScenarios, side('monolith'), side('extracted'));

      if (!report.identical) console.log(`notifications routed ${mode}:\n${renderReport(report)}`);
      expect(report.scenarios.map((s) => [mode, s.scenario, s.failures, s.differences])).toEqual(notificationScenarios.map((s) => [mode, s.name, { a: [], b: [] }, []]));
      for (const s of report.scenarios) expect([s.a.steps.length, s.b.steps.length]).toEqual(Array(2).fill(notificationScenarios.find((x) => x.name === s.scenario)!.steps.length));
    }
  }, 60_000);

  test.each([
    ['monolith', 'monolith'],
    ['extracted', 'service'],
  ] as const)('When notifications is routed %s and the same order.created arrives three times, then one email, sent by the %s', async (mode, sender) => {
    await system.route(mode);
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
      data: { orderId, userId: uuidv7(), customerEmail: customer.email, status: 'confirmed', totalCents: 1250, items: [{ productId: uuidv7(), quantity: 1, priceCents: 1250 }], createdAt: new Date().toISOString() },
    };

    // Injected: the relay's repeat of a batch, three deliveries of one event.
    await publishEvent(names(system.namespace).exchangeOf('order.created'), event, 3);

    await eventually(() => mailsAbout(orderId), { until: (m) => m.length >= 1, timeoutMs: 10_000 });
    await sleep(1_000);
    expect(mailsAbout(orderId).map((m) => m.side)).toEqual([sender]);
    await eventually(async () => (await rowsFor('monolith', [orderId])).length + (await rowsFor('service', [orderId])).length, { until: (count) => count === 2, timeoutMs: 10_000 });
  });
});
