import { compareTargets, gatewaySide, renderReport, type Scenario } from '@banyan/parity';
import { paymentScenarios } from '../../../migration/parity/payments';
import { eventually } from '@banyan/testing';
import { backfill, loadSyncSpec, verify } from '@banyan/sync';
import { ADMIN_TOKEN } from '../../../gateway/test/support/gateway';
import { sleep, startPaymentsSystem, type PaymentsSystem } from './system';
import { shopParityAuth } from '../../../migration/parity/auth';

/**
 * The extraction drill for payments, end to end through a real gateway with both relays
 * running: backfill and verify; switch to the service, back and again while four writers check out,
 * gets declined and cancels through the gateway; the contract scenarios on both sides in both
 * modes; and the service killed during checkout with the gateway in front, between calls and in the
 * middle of a charge.
 */
const GOOD = '4242424242424242';
const DECLINED = '4000000000000002';
const BREAKER_RESET_MS = 1000;
/** Concurrent writers in the switch drill (issue 17: at least four). */
const WRITERS = 4;

let system: PaymentsSystem;
let customerToken: string;
beforeAll(async () => {
  system = await startPaymentsSystem('pay_e2e', { breakerResetMs: BREAKER_RESET_MS });
  const email = `pay-e2e-${Date.now()}@example.com`;
  expect((await system.gateway.api.post('/api/users', { email, password: 'correct horse battery', name: 'Payer' })).status).toBe(201);
  customerToken = (await system.gateway.api.post('/api/users/login', { email, password: 'correct horse battery' })).body.token;
}, 30_000);
afterAll(() => system?.close(), 30_000);

const spec = loadSyncSpec('payments');
const stores = () => ({ source: system.mono.db.knex, target: system.service.db.knex });
const api = () => system.gateway.api;

async function product(stock = 1000, priceCents = 1250): Promise<string> {
  const res = await api().post('/api/products', { sku: `PAY-E2E-${Math.random().toString(36).slice(2)}`, name: 'Thing', priceCents, stock }, system.adminToken);
  if (res.status !== 201) throw new Error(`product: ${res.status} ${res.text}`);
  return res.body.id;
}
const checkout = (productId: string, card: string, quantity = 1) =>
  api().post('/api/orders', { items: [{ productId, quantity }], card: { number: card } }, customerToken);
const PAYMENT_COLUMNS = ['order_id', 'status', 'amount_cents', 'version'];
const paymentOn = (side: 'monolith' | 'service', orderId: string) =>
  (side === 'monolith' ? system.mono.db : system.service.db).knex('payments.payments').where({ order_id: orderId }).first(PAYMENT_COLUMNS);

describe('payments extracted, end to end through the gateway', () => {
  test('When the service’s store starts without the monolith’s payments, then backfill copies them and verify finds 0 differences', async () => {
    // Arrange: payments made by the monolith (captured, declined, refunded), which reach the service
    // by events; then the service's table is emptied, standing for a service whose database was
    // created after them (the situation a backfill exists for).
    const item = await product();
    const paid = await checkout(item, GOOD);
    const declined = await checkout(item, DECLINED);
    const refunded = await checkout(item, GOOD);
    expect([paid.status, declined.status, refunded.status]).toEqual([201, 402, 201]);
    expect((await api().post(`/api/orders/${refunded.body.id}/cancel`, undefined, customerToken)).status).toBe(200);
    const orders = [paid.body.id, declined.body.orderId, refunded.body.id];
    await eventually(async () => expect((await paymentOn('service', refunded.body.id))?.status).toBe('refunded'), { timeoutMs: 10_000 });
    await system.service.db.knex('payments.payments').delete();
    expect((await verify(spec, stores())).differences.length).toBeGreaterThanOrEqual(3);

    const result = await backfill(spec, stores());

    expect(result.written).toBeGreaterThanOrEqual(3);
    expect((await verify(spec, stores())).differences).toEqual([]);
    for (const orderId of orders) expect(await paymentOn('service', orderId)).toEqual(await paymentOn('monolith', orderId));
    expect((await paymentOn('service', refunded.body.id))?.status).toBe('refunded');
  });

  test('When payments is switched to the service, back, and again while four writers keep ordering, declining and cancelling, then verify finds 0 differences and every acknowledged write is on both sides, charged once', async () => {
    const items = [await product(), await product(10_000, 799)];
    const expected = new Map<string, { status: 'captured' | 'declined' | 'refunded'; amountCents: number; order: string }>();
    const cancellable: string[] = [];
    const counts = { placed: 0, cancelled: 0, reads: 0, retriedCancels: 0, refused: [] as string[] };
    Object.assign(system.card.state, { charges: 0 });

    // Four writers at once, each one request at a time, so each acknowledgement has one meaning;
    // every step takes its own number, so the writers interleave checkouts, declines, cancels and reads.
    let running = true;
    let n = 0;
    const writer = async () => {
      while (running) {
        const k = ++n;
        const productId = items[k % 2];
        const priceCents = k % 2 === 0 ? 1250 : 799;
        const op = k % 5;
        if (op === 0 || op === 1) {
          const res = await checkout(productId, GOOD, 2);
          counts.placed++;
          if (res.status === 201) {
            expected.set(res.body.id, { status: 'captured', amountCents: 2 * priceCents, order: 'confirmed' });
            cancellable.push(res.body.id);
          } else counts.refused.push(`order ${res.status} ${res.body?.code ?? ''}`);
        } else if (op === 2) {
          const res = await checkout(productId, DECLINED);
          counts.placed++;
          if (res.status === 402 && res.body.code === 'PAYMENTS.DECLINED') expected.set(res.body.orderId, { status: 'declined', amountCents: priceCents, order: 'payment_declined' });
          else counts.refused.push(`declined order ${res.status} ${res.body?.code ?? ''}`);
        } else if (op === 3 && cancellable.length > 6) {
          // An order a few requests old: a refund right after a switch may find the capture not yet
          // replicated (ADR 0311, PAYMENTS.NOT_FOUND, retry later); that is counted, not hidden.
          const orderId = cancellable.shift()!;
          const res = await api().post(`/api/orders/${orderId}/cancel`, undefined, customerToken);
          if (res.status === 200) {
            expected.set(orderId, { ...expected.get(orderId)!, status: 'refunded', order: 'cancelled' });
            counts.cancelled++;
          } else if (res.status === 404 && res.body.code === 'PAYMENTS.NOT_FOUND') {
            counts.retriedCancels++;
            cancellable.push(orderId);
          } else counts.refused.push(`cancel ${res.status} ${res.body?.code ?? ''}`);
        } else {
          // A read through the gateway, served by whichever side the route names at that moment.
          const last = [...expected.keys()].at(-1);
          if (!last) continue;
          const res = await api().get(`/api/payments?orderId=${last}`, customerToken);
          counts.reads++;
          if (res.status !== 200 && !(res.status === 404 && res.body.code === 'PAYMENTS.NOT_FOUND')) counts.refused.push(`read ${res.status}`);
        }
      }
    };
    const loop = Promise.all(Array.from({ length: WRITERS }, writer));

    await sleep(1500);
    await system.gateway.route('payments', 'extracted');
    await sleep(2500);
    await system.gateway.route('payments', 'monolith');
    await sleep(2500);
    await system.gateway.route('payments', 'extracted');
    await sleep(2500);
    running = false;
    await loop;

    // Assert: the stores settle to the same rows, and those rows are what was acknowledged.
    await eventually(async () => expect((await verify(spec, stores())).differences).toEqual([]), { timeoutMs: 20_000 });
    if (process.env.LOAD_DEBUG) console.log({ n, ...counts, charges: system.card.state.charges });
    expect(counts.refused).toEqual([]);
    // A cancel right after a switch may find the capture not yet replicated: a few per switch and writer.
    expect(counts.retriedCancels).toBeLessThanOrEqual(3 * WRITERS);
    expect(counts.cancelled).toBeGreaterThan(3);
    // Each order reached the processor exactly once, whichever side charged it.
    expect(system.card.state.charges).toBe(counts.placed);
    for (const [orderId, want] of expected) {
      for (const side of ['monolith', 'service'] as const) {
        const row = await paymentOn(side, orderId);
        expect({ side, orderId, status: row?.status, amountCents: Number(row?.amount_cents) }).toEqual({ side, orderId, status: want.status, amountCents: want.amountCents });
      }
      expect((await api().get(`/api/orders/${orderId}`, customerToken)).body.status).toBe(want.order);
    }
    // Both sides charged and refunded: the service while extracted, the monolith before and in between.
    const madeBy = async (side: 'monolith' | 'service', type: string) =>
      (await (side === 'monolith' ? system.mono.events(type) : system.service.events(type))).filter((e) => expected.has(e.data.orderId)).length;
    expect(await madeBy('service', 'payment.captured')).toBeGreaterThan(3);
    expect(await madeBy('monolith', 'payment.captured')).toBeGreaterThan(3);
    expect((await madeBy('service', 'payment.refunded')) + (await madeBy('monolith', 'payment.refunded'))).toBe(counts.cancelled);
  }, 60_000);

  test('When the payments scenarios run on the monolith side and on the service side through the gateway, then they are identical in every routing mode (monolith, shadow, canary 50, extracted)', async () => {
    // Whichever side charges, the other side's reads see the payment only once its event arrived:
    // the reads wait for it (the scenarios' own steps wait only where the contract says eventually).
    const scenarios: Scenario[] = paymentScenarios.map((s) => ({
      ...s,
      steps: s.steps.map((step) => (step.method === 'GET' && step.path.startsWith('/api/payments') && step.expect?.status === 200 ? { ...step, eventually: { timeoutMs: 10_000 } } : step)),
    }));
    const side = (s: 'monolith' | 'extracted') =>
      gatewaySide({ gatewayUrl: system.gateway.url, side: s, domain: 'payments', prefixes: ['/api/payments'], gatewayToken: ADMIN_TOKEN, auth: shopParityAuth, adminToken: system.adminToken });

    // In every mode a user can put payments in: the doors and consumers behind each side follow it.
    for (const [mode, percent] of [['monolith'], ['shadow'], ['canary', 50], ['extracted']] as const) {
      await system.route(mode, percent);
      const report = await compareTargets(scenarios, side('monolith'), side('extracted'));

      if (!report.identical) console.log(`payments routed ${mode}:\n${renderReport(report)}`);
      expect(report.scenarios.map((s) => [mode, s.scenario, s.failures, s.differences])).toEqual(scenarios.map((s) => [mode, s.name, { a: [], b: [] }, []]));
      // Every step ran on both sides: a scenario stopped early would compare equal and prove nothing.
      for (const s of report.scenarios) expect([s.a.steps.length, s.b.steps.length]).toEqual(Array(2).fill(scenarios.find((x) => x.name === s.scenario)!.steps.length));
    }
  }, 80_000);

  test('When the payments service dies during checkout behind the gateway, then 5 failures open the breaker, orders fail fast and cleanly, and once it is back the probe closes it and checkout works', async () => {
    await system.route('extracted');
    const item = await product(100);
    const before = await checkout(item, GOOD);
    expect(before.status).toBe(201);
    await eventually(async () => expect(await paymentOn('monolith', before.body.id)).toBeDefined(), { timeoutMs: 10_000 });
    const breaker = () => system.mono.monolith.modules.payments.remote.breaker;
    const charges = system.card.state.charges;

    // Injected: the service's HTTP server is closed (connections refused), as when its process dies.
    await system.service.kill();

    const failed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await checkout(item, GOOD);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('SERVICE.UNAVAILABLE');
      failed.push(res.body.orderId);
      expect(breaker().opened).toBe(i === 4);
    }
    const started = performance.now();
    const fast = await checkout(item, GOOD);
    const elapsed = performance.now() - started;
    expect(fast.status).toBe(503);
    // Refused by the open breaker without a call (few ms on a quiet machine; the bound leaves room
    // for a loaded one and is still far below the call timeout a tried request would wait for).
    expect(fast.body.circuit).toBe('open');
    expect(elapsed).toBeLessThan(500);
    expect(fast.headers.get('content-type')).toContain('application/problem+json');
    expect(fast.body).toMatchObject({ code: 'SERVICE.UNAVAILABLE', orderId: expect.any(String) });
    expect(Number(fast.headers.get('retry-after'))).toBeGreaterThan(0);
    failed.push(fast.body.orderId);

    // What held: each failed order is retryable with its stock back, and no card was charged.
    for (const orderId of failed) expect((await api().get(`/api/orders/${orderId}`, customerToken)).body.status).toBe('payment_failed');
    expect((await api().get(`/api/products/${item}`)).body.stock).toBe(99);
    expect(system.card.state.charges).toBe(charges);
    expect(await system.mono.db.knex('payments.payments').whereIn('order_id', failed).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
    // A read of an earlier payment still answers: the gateway falls back to the monolith's copy for GETs.
    const read = await api().get(`/api/payments?orderId=${before.body.id}`, customerToken);
    expect(read.status).toBe(200);
    expect(read.body.items[0]).toMatchObject({ orderId: before.body.id, status: 'captured' });
    expect(read.headers.get('x-banyan-route')).toContain('fallback');

    // The service comes back; after the reset timeout one probe goes through and closes the breaker.
    await system.service.revive();
    await sleep(BREAKER_RESET_MS + 100);
    expect(breaker().halfOpen).toBe(true);
    const probe = await checkout(item, GOOD);
    expect(probe.status).toBe(201);
    expect(breaker().closed).toBe(true);
    expect((await checkout(item, GOOD)).status).toBe(201);
    expect(await paymentOn('service', probe.body.id)).toMatchObject({ status: 'captured' });
    expect((await api().get(`/api/products/${item}`)).body.stock).toBe(97);
  }, 30_000);

  test('When the payments service is cut off in the middle of a charge (the card charged, the answer never sent), then checkout answers 503 with a payment_failed order, and the reconciler refunds that charge once the service is back', async () => {
    await system.route('extracted');
    const item = await product(10);
    const charges = system.card.state.charges;
    system.card.state.delayMs = 1_000; // under PAYMENTS_TIMEOUT_MS (2 s): only the cut can stop the answer

    // Injected: once the service has called the card processor for this checkout, every
    // connection to it is cut, the in-flight one included (its process dies mid-request).
    const pending = checkout(item, GOOD);
    await eventually(async () => expect(system.card.state.charges).toBe(charges + 1), { timeoutMs: 5_000 });
    await system.service.kill();
    const res = await pending;
    system.card.state.delayMs = 0;

    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'SERVICE.UNAVAILABLE', orderId: expect.any(String) });
    const orderId: string = res.body.orderId;
    expect((await api().get(`/api/orders/${orderId}`, customerToken)).body.status).toBe('payment_failed');
    expect((await api().get(`/api/products/${item}`)).body.stock).toBe(10);
    // The charge went through behind the cut: the service holds a captured payment for an order
    // the customer was told failed. This is what the reconciler exists for.
    await eventually(async () => expect((await paymentOn('service', orderId))?.status).toBe('captured'), { timeoutMs: 10_000 });

    await system.service.revive();
    await sleep(BREAKER_RESET_MS + 100);
    const report = await system.mono.monolith.modules.orders.api.reconcile();

    expect(report).toMatchObject({ refunded: 1, retrying: 0 });
    expect(await paymentOn('service', orderId)).toMatchObject({ status: 'refunded' });
    const order = await system.mono.db.knex('orders.orders').where({ id: orderId }).first('status', 'reconciled_at');
    expect(order.status).toBe('payment_failed');
    expect(order.reconciled_at).toBeInstanceOf(Date);
    expect(system.card.state.charges).toBe(charges + 1);
    // The refund flows back to the module's copy like any of the service's writes.
    await eventually(async () => expect((await paymentOn('monolith', orderId))?.status).toBe('refunded'), { timeoutMs: 10_000 });
    expect((await checkout(item, GOOD)).status).toBe(201);
  }, 30_000);
});
