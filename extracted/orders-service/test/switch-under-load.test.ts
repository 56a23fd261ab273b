import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSyncSpec, verify } from '@banyan/sync';
import { eventually } from '@banyan/testing';
import { startSwitchSystem, type SwitchSystem } from './support/switch-system';

/**
 * The switching drill for orders (issue 12): four customers check out and cancel through a real
 * gateway while orders is switched monolith → extracted → monolith five times. Every acknowledged
 * answer must hold on both sides afterwards, each order charged once, and verify clean.
 */
const CARD = { number: '4242424242424242' };

let sys: SwitchSystem;
beforeAll(async () => {
  sys = await startSwitchSystem('orders_switch');
}, 120_000);
afterAll(() => sys?.close());

test('When orders is switched five times under four concurrent writers, then every acknowledged order is on both sides with its status, charged once, and verify finds no difference', async () => {
  const admin = await sys.mono.admin();
  const product = await sys.gateway.api.post('/api/products', { sku: `switch-${randomUUID().slice(0, 8)}`, name: 'Thing', priceCents: 500, stock: 100_000 }, admin.token);
  expect(product.status).toBe(201);
  const productId = product.body.id as string;
  const customers = await Promise.all(Array.from({ length: 4 }, () => sys.mono.signUp()));

  const acknowledged = new Map<string, 'confirmed' | 'cancelled'>();
  const refused: string[] = [];
  let stop = false;
  const writer = async (token: string) => {
    const mine: string[] = [];
    while (!stop) {
      if (mine.length > 0 && Math.random() < 0.3) {
        const id = mine.shift()!;
        const res = await sys.gateway.api.post(`/api/orders/${id}/cancel`, undefined, token);
        if (res.status === 200) acknowledged.set(id, 'cancelled');
        else refused.push(`cancel ${id}: ${res.status} ${res.body?.code}`);
      } else {
        const res = await sys.gateway.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: CARD }, token);
        if (res.status === 201) {
          acknowledged.set(res.body.id, 'confirmed');
          mine.push(res.body.id);
        } else refused.push(`checkout: ${res.status} ${res.body?.code}`);
      }
    }
  };
  const writers = customers.map((c) => writer(c.token));
  for (let i = 0; i < 5; i++) {
    // Each switch holds the writes for a second or two while the old side drains (ADR 0303's
    // fence): long enough windows that both sides take checkouts.
    await sleep(2500);
    await sys.gateway.route('orders', 'extracted');
    await sleep(2500);
    await sys.gateway.route('orders', 'monolith');
  }
  await sleep(300);
  stop = true;
  await Promise.all(writers);

  expect(refused).toEqual([]);
  expect(acknowledged.size).toBeGreaterThan(20);
  const ids = [...acknowledged.keys()];
  const statuses = async (knex: SwitchSystem['mono']['db']['knex']) =>
    new Map((await knex('orders.orders').whereIn('id', ids).select('id', 'status')).map((r: { id: string; status: string }) => [r.id, r.status]));
  await eventually(
    async () => {
      const [atMonolith, atService] = [await statuses(sys.mono.db.knex), await statuses(sys.orders.db.knex)];
      const wrong = ids.filter((id) => atMonolith.get(id) !== acknowledged.get(id) || atService.get(id) !== acknowledged.get(id));
      if (wrong.length) throw new Error(`${wrong.length} orders not as acknowledged on both sides, e.g. ${wrong[0]}: ${acknowledged.get(wrong[0])} / ${atMonolith.get(wrong[0])} / ${atService.get(wrong[0])}`);
    },
    { timeoutMs: 30_000 },
  );
  // A status event that overtook its order.created (another queue) is applied on its retry, a second later.
  await eventually(
    async () => {
      const report = await verify(loadSyncSpec('orders'), { source: sys.mono.db.knex, target: sys.orders.db.knex });
      if (report.differences.length) throw new Error(`${report.differences.length} differences, e.g. ${JSON.stringify(report.differences[0])}`);
    },
    { timeoutMs: 30_000 },
  );

  // Both sides took checkouts: the service's through its saga (all finished), the monolith's in-process.
  const sagas = await sys.orders.db.knex('orders.checkout_sagas').whereIn('order_id', ids).select('state');
  expect(sagas.length).toBeGreaterThan(0);
  expect(sagas.length).toBeLessThan(ids.length);
  expect(sagas.every((saga) => saga.state === 'done')).toBe(true);

  // Money: one payment per acknowledged order, captured or (cancelled) refunded; the card charged once each.
  const payments = await sys.payments.db.knex('payments.payments').whereIn('order_id', ids).select('order_id', 'status');
  expect(payments).toHaveLength(ids.length);
  for (const p of payments) expect(p.status).toBe(acknowledged.get(p.order_id) === 'cancelled' ? 'refunded' : 'captured');
  expect(sys.card.state.charges).toBe(ids.length);
  const stock = (await sys.products.db.knex('products.products').where({ id: productId }).first('stock')).stock;
  expect(stock).toBe(100_000 - [...acknowledged.values()].filter((s) => s === 'confirmed').length);
}, 120_000);
