import { backfill, loadSyncSpec, verify } from '../../../packages/cli/src/sync/engine';
import { eventually, productRow } from './support/pair';
import { startProductsSystem, type ProductsSystem } from './support/system';

/**
 * ADR 0301's loss case, driven on purpose: two writers hit the SAME products through the gateway
 * while products is switched to the service, back and again. Without the gateway's switch fence
 * (ADR 0303) a write in flight on the old side and the first write on the new side number the
 * same version and one side keeps a change the other lost. With it, the new side's first write
 * waits until the old side's writes have been published and applied, so versions stay ordered.
 * Only products' own HTTP writes are used: orders reserve stock through the monolith's in-process
 * door, which follows its own routing poll and is not behind the fence (ADR 0303).
 */
let system: ProductsSystem;
beforeAll(async () => {
  system = await startProductsSystem('psame');
}, 30_000);
afterAll(() => system?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Two writers on the same products across switches', () => {
  test('When two writers patch and restock the same products around each switch, then verify finds 0 differences and the stock is the sum of the acknowledged changes on both sides', async () => {
    const { gateway, adminToken } = system;
    const api = gateway.api;
    const spec = loadSyncSpec('products');
    const stores = () => ({ source: system.mono.db.knex, target: system.service.db.knex });

    // Arrange: two products, copied to the service.
    const stock = new Map<string, number>();
    for (let i = 0; i < 2; i++) {
      const created = await api.post('/api/products', { sku: `SAME-${i}-${Date.now()}`, name: `Same ${i}`, priceCents: 700, stock: 1000 }, adminToken);
      expect(created.status).toBe(201);
      stock.set(created.body.id, 1000);
    }
    const ids = [...stock.keys()];
    await backfill(spec, stores());
    expect((await verify(spec, stores())).differences).toEqual([]);

    // Act: two writers, each one request at a time, on the same two products.
    const refused: string[] = [];
    let running = true;
    const writer = async (who: 'a' | 'b') => {
      let n = 0;
      while (running) {
        n++;
        const id = ids[n % ids.length];
        if (n % 2 === 0) {
          const res = await api.patch(`/api/products/${id}`, { name: `${who} ${n}`, priceCents: 1000 + n }, adminToken);
          if (res.status !== 200) refused.push(`${who} patch ${res.status}`);
        } else {
          const delta = who === 'a' ? 2 : -1;
          const res = await api.post(`/api/products/${id}/stock`, { delta }, adminToken);
          if (res.status === 200) stock.set(id, stock.get(id)! + delta);
          else refused.push(`${who} stock ${res.status}`);
        }
      }
    };
    const writers = Promise.all([writer('a'), writer('b')]);
    for (const mode of ['extracted', 'monolith', 'extracted'] as const) {
      await sleep(700);
      await gateway.route('products', mode);
    }
    await sleep(700);
    running = false;
    await writers;

    // Assert: both stores settle to the same rows; each holds every acknowledged stock change.
    expect(refused).toEqual([]);
    await eventually(async () => expect((await verify(spec, stores())).differences).toEqual([]), 20_000);
    for (const [id, want] of stock) {
      for (const side of [system.mono.db, system.service.db]) expect({ id, stock: (await productRow(side, id))?.stock }).toEqual({ id, stock: want });
    }
    // The fence was raised at each switch and came down by settling, not by its upper bound.
    const metrics = (await gateway.adminApi.get('/metrics')).text;
    expect(metrics).toMatch(/banyan_gateway_switch_fences_total\{domain="products",outcome="settled"\} 3/);
    expect(metrics).not.toMatch(/outcome="timeout"/);
  }, 90_000);
});
