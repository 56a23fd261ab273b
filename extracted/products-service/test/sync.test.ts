import { v7 as uuidv7 } from 'uuid';
import { partitionOf } from '@banyan/outbox';
import { eventually } from '@banyan/testing';
import { productRow, startProductsPair, type ProductsPair } from './support/pair';

let pair: ProductsPair;
beforeAll(async () => {
  pair = await startProductsPair('psync');
}, 30_000);
afterAll(() => pair?.close());

const newProduct = (sku: string) => ({ sku: `${sku}-${Date.now()}`, name: `Product ${sku}`, description: 'synced', priceCents: 1000, stock: 10 });

describe('Two-way products sync during extraction', () => {
  test('When the monolith writes a product, then it appears in the service at the same version', async () => {
    const created = await pair.mono.api.post('/api/products', newProduct('m'), pair.adminToken);
    expect(created.status).toBe(201);
    await pair.mono.api.post(`/api/products/${created.body.id}/stock`, { delta: 5 }, pair.adminToken);

    const replica = await eventually(async () => {
      const row = await productRow(pair.service.db, created.body.id);
      expect(row?.stock).toBe(15);
      return row;
    }, { timeoutMs: 10_000 });
    expect(replica).toEqual(await productRow(pair.mono.db, created.body.id));
    expect(Number(replica.version)).toBe(2);
  });

  test("When the service writes, then the monolith's table follows and its next own write continues the sequence", async () => {
    const created = await pair.service.api.post('/api/products', newProduct('s'), pair.adminToken);
    expect(created.status).toBe(201);
    const patched = await pair.service.api.patch(`/api/products/${created.body.id}`, { name: 'Renamed in the service' }, pair.adminToken);
    expect(patched.status).toBe(200);

    await eventually(async () => expect((await productRow(pair.mono.db, created.body.id))?.name).toBe('Renamed in the service'), { timeoutMs: 10_000 });
    const [sequence] = await pair.mono.db.knex('outbox.aggregate_sequences').where({ aggregate_type: 'products', aggregate_id: created.body.id });
    expect(Number(sequence.last_sequence)).toBe(2);

    // Switching back: the monolith writes, numbering after the service's change, and the service takes it.
    const adjusted = await pair.mono.api.post(`/api/products/${created.body.id}/stock`, { delta: -3 }, pair.adminToken);
    expect(adjusted.status).toBe(200);
    await eventually(async () => {
      const row = await productRow(pair.service.db, created.body.id);
      expect(row).toMatchObject({ stock: 7 });
      expect(Number(row.version)).toBe(3);
    }, { timeoutMs: 10_000 });
  });

  test('When a change is applied on the other side, then it is not published again (no echo)', async () => {
    const created = await pair.mono.api.post('/api/products', newProduct('echo'), pair.adminToken);
    await eventually(async () => expect(await productRow(pair.service.db, created.body.id)).toBeTruthy(), { timeoutMs: 10_000 });
    // Give an echo time to come round, then count: one event, in the monolith's outbox only.
    await new Promise((r) => setTimeout(r, 1000));
    const inService = await pair.service.db.knex('outbox.events').where({ aggregate_id: created.body.id }).count<{ count: string }[]>('* as count');
    const inMonolith = await pair.mono.db.knex('outbox.events').where({ aggregate_id: created.body.id }).select('type', 'origin');
    expect(Number(inService[0].count)).toBe(0);
    expect(inMonolith).toEqual([{ type: 'product.created', origin: 'monolith' }]);
  });

  test('When an older version arrives after a newer one, then it is consumed (its inbox row written) and ignored', async () => {
    const created = await pair.mono.api.post('/api/products', newProduct('old'), pair.adminToken);
    await pair.mono.api.patch(`/api/products/${created.body.id}`, { name: 'Newest name' }, pair.adminToken);
    await eventually(async () => expect((await productRow(pair.service.db, created.body.id))?.name).toBe('Newest name'), { timeoutMs: 10_000 });

    // A late redelivery of version 1. The outbox never numbers backwards, so the row is written
    // by hand, under another aggregate type only to pass the (type, id, sequence) uniqueness.
    const staleId = uuidv7();
    await pair.mono.db.knex('outbox.events').insert({
      id: staleId,
      source: '/banyan/monolith',
      type: 'product.updated',
      exchange: 'products',
      aggregate_type: 'products-replay',
      aggregate_id: created.body.id,
      sequence: 1,
      partition: partitionOf(created.body.id),
      origin: 'monolith',
      time: new Date().toISOString(),
      data: JSON.stringify({ productId: created.body.id, ...newProduct('stale'), name: 'Stale name' }),
    });
    // Consumed: the service's inbox recorded it, in the transaction its handler ran in.
    const consumed = await eventually(() => pair.service.db.knex('inbox.processed').where({ event_id: staleId }).select('event_type', 'sequence'), {
      until: (rows) => rows.length === 1,
      timeoutMs: 10_000,
      what: 'the stale event in the service inbox',
    });
    expect(consumed).toEqual([{ event_type: 'product.updated', sequence: '1' }]);
    // Ignored: the newer version still stands.
    expect((await productRow(pair.service.db, created.body.id))?.name).toBe('Newest name');
  });

  test('When a stock change arrives before the name change it follows (they travel on two queues), then the name change is not lost: each event carries the whole product', async () => {
    const created = await pair.mono.api.post('/api/products', newProduct('order'), pair.adminToken);
    await eventually(async () => expect(await productRow(pair.service.db, created.body.id)).toBeTruthy(), { timeoutMs: 10_000 });
    const { id: productId, sku, description, priceCents } = created.body;
    // Version 2 renamed the product, version 3 then changed its stock; 3 reaches the service first.
    const event = (type: string, sequence: number, data: Record<string, unknown>) => ({
      id: uuidv7(),
      source: '/banyan/monolith',
      type,
      exchange: 'products',
      aggregate_type: 'products',
      aggregate_id: productId,
      sequence,
      partition: partitionOf(productId),
      origin: 'monolith',
      time: new Date().toISOString(),
      data: JSON.stringify({ productId, sku, description, priceCents, name: 'Renamed at 2', ...data }),
    });
    const third = event('product.stock_changed', 3, { stock: 14, delta: 4, reason: 'adjustment' });
    await pair.mono.db.knex('outbox.events').insert(third);
    await eventually(() => pair.service.db.knex('inbox.processed').where({ event_id: third.id }), { until: (rows) => rows.length === 1, timeoutMs: 10_000, what: 'version 3 applied' });
    const second = event('product.updated', 2, { stock: 10 });
    await pair.mono.db.knex('outbox.events').insert(second);
    await eventually(() => pair.service.db.knex('inbox.processed').where({ event_id: second.id }), { until: (rows) => rows.length === 1, timeoutMs: 10_000, what: 'version 2 consumed' });

    // Version 2 came late and was ignored as older, yet its rename is there: version 3 brought it.
    expect(await productRow(pair.service.db, productId)).toMatchObject({ name: 'Renamed at 2', stock: 14, version: '3' });
  });
});
