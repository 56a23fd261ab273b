import { eventually } from '@banyan/testing';
import { backfill, loadSyncSpec, verify } from '@banyan/sync';
import { productRow } from './support/pair';
import { startProductsSystem, type ProductsSystem } from './support/system';

/**
 * The issue's extraction drill for products: backfill, then shadow, canary, switch to the service,
 * back, canary and switch again while four writers keep writing through the gateway (admin creates, patches,
 * stock changes and customers' orders, which reserve stock through the products door). Afterwards
 * both stores must agree row for row, and hold every write the gateway acknowledged.
 */
let system: ProductsSystem;
beforeAll(async () => {
  system = await startProductsSystem('pload');
}, 30_000);
afterAll(() => system?.close());

const APPROVED_CARD = { number: '4242424242424242' };
/** Concurrent writers (issue 17: at least four). */
const WRITERS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the acknowledged writes say a product must look like on both sides. */
interface Expected {
  name: string;
  priceCents: number;
  stock: number;
}

describe('Switching products under load', () => {
  test('When products goes through shadow, canary, the switch, back and again while writes continue, then verify finds 0 differences and every acknowledged write is on both sides', async () => {
    const { gateway, adminToken } = system;
    const api = gateway.api;
    const spec = loadSyncSpec('products');
    const stores = () => ({ source: system.mono.db.knex, target: system.service.db.knex });

    // Arrange: a catalog written before the service existed, copied by the backfill.
    const expected = new Map<string, Expected>();
    for (let i = 0; i < 4; i++) {
      const input = { sku: `LOAD-PRE-${i}`, name: `Before ${i}`, priceCents: 500 + i, stock: 1000 };
      const created = await api.post('/api/products', input, adminToken);
      expect(created.status).toBe(201);
      expected.set(created.body.id, { name: input.name, priceCents: input.priceCents, stock: input.stock });
    }
    await backfill(spec, stores());
    expect((await verify(spec, stores())).differences).toEqual([]);
    const customer = await gateway.api.post('/api/users', { email: `load-${Date.now()}@example.com`, password: 'correct horse battery', name: 'Load' });
    expect(customer.status).toBe(201);
    const login = await api.post('/api/users/login', { email: customer.body.email, password: 'correct horse battery' });
    const customerToken = login.body.token as string;

    // Act: four writers at once, each one request at a time, so each acknowledgement has one
    // meaning. Stock changes and orders add up whatever their order, so every writer may change
    // any product's stock; a name and price are last-writer-wins, so each product is patched by
    // one writer only (its owner), whose acknowledgements come one after another.
    const counts = { orders: 0, refused: [] as string[] };
    const owner = new Map<string, number>([...expected.keys()].map((id, i) => [id, i % WRITERS]));
    let running = true;
    let n = 0;
    const writer = async (w: number) => {
      while (running) {
        const k = ++n;
        const ids = [...expected.keys()];
        const id = ids[k % ids.length];
        const product = expected.get(id)!;
        const op = k % 4;
        if (op === 0) {
          const input = { sku: `LOAD-${k}`, name: `Created ${k}`, priceCents: 100 + k, stock: 500 };
          const res = await api.post('/api/products', input, adminToken);
          if (res.status === 201) {
            expected.set(res.body.id, { name: input.name, priceCents: input.priceCents, stock: input.stock });
            owner.set(res.body.id, w);
          } else counts.refused.push(`create ${res.status}`);
        } else if (op === 1) {
          const mine = ids.filter((p) => owner.get(p) === w);
          if (mine.length === 0) continue;
          const target = mine[k % mine.length];
          const res = await api.patch(`/api/products/${target}`, { name: `Patched ${k}`, priceCents: 1000 + k }, adminToken);
          if (res.status === 200) Object.assign(expected.get(target)!, { name: `Patched ${k}`, priceCents: 1000 + k });
          else counts.refused.push(`patch ${res.status}`);
        } else if (op === 2) {
          const delta = k % 3 === 0 ? -2 : 3;
          const res = await api.post(`/api/products/${id}/stock`, { delta }, adminToken);
          if (res.status === 200) product.stock += delta;
          else counts.refused.push(`stock ${res.status}`);
        } else {
          const res = await api.post('/api/orders', { items: [{ productId: id, quantity: 1 }], card: APPROVED_CARD }, customerToken);
          if (res.status === 201) {
            product.stock -= 1;
            counts.orders++;
          } else counts.refused.push(`order ${res.status} ${res.body?.code ?? ''}`);
        }
      }
    };
    const loop = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

    // The whole drill: shadow, canary (reads split; the admin's writes and the orders' stock
    // reservations both still land on the monolith, ADR 0304), switch, back, canary, switch.
    const drill: Array<[Parameters<typeof gateway.route>[1], number?]> = [
      ['shadow'], ['canary', 50], ['canary', 100], ['extracted'], ['monolith'], ['canary', 50], ['extracted'],
    ];
    await sleep(1500);
    for (const [mode, percent] of drill) {
      await gateway.route('products', mode, percent);
      await sleep(mode === 'extracted' || mode === 'monolith' ? 2500 : 1500);
    }
    running = false;
    await loop;

    // Assert: the stores settle to the same rows, and those rows are what was acknowledged.
    await eventually(async () => expect((await verify(spec, stores())).differences).toEqual([]), { timeoutMs: 20_000 });
    expect(counts.refused).toEqual([]);
    expect(counts.orders).toBeGreaterThan(5);
    // Both sides took writes: the service while extracted, the monolith before and in between.
    const written = await system.service.db.knex('outbox.events').count<{ count: string }[]>('* as count');
    expect(Number(written[0].count)).toBeGreaterThan(10);
    if (process.env.LOAD_DEBUG) console.log({ n, orders: counts.orders, serviceEvents: written[0].count, products: expected.size });
    for (const [id, want] of expected) {
      for (const side of [system.mono.db, system.service.db]) {
        const row = await productRow(side, id);
        expect({ id, name: row?.name, priceCents: row?.price_cents, stock: row?.stock }).toEqual({ id, ...want });
      }
    }
    // Reservations taken at the service while extracted were all kept or given back: none left open.
    const open = await system.mono.db.knex('products.remote_reservations').whereIn('state', ['reserving', 'releasing']).count<{ count: string }[]>('* as count');
    expect(Number(open[0].count)).toBe(0);
    expect(Number((await system.service.db.knex('products.reservations').count<{ count: string }[]>('* as count'))[0].count)).toBeGreaterThan(0);
  }, 90_000);
});
