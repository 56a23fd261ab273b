import { migrate } from '@banyan/db';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { createOutbox, envelopeFromRow, outboxSchema, partitionOf, type OutboxRow } from '@banyan/outbox';

const ORDER = '0190c0de-0000-7000-8000-000000000001';

describe('outbox', () => {
  let db: TestDatabase;
  const outbox = createOutbox({ source: '/banyan/test', origin: 'test' });

  beforeAll(async () => {
    db = await createTestDatabase('outbox');
    await migrate(db.knex, [outboxSchema]);
  });
  afterAll(() => db.drop());

  test('an event added in a committed transaction is stored as a CloudEvents envelope with its writer transaction id', async () => {
    const envelope = await db.knex.transaction((trx) =>
      outbox.add(trx, { type: 'order.created', subject: ORDER, data: { orderId: ORDER } }),
    );

    const row = await db.knex<OutboxRow>('outbox.events').where({ id: envelope.id }).first();
    expect(row).toMatchObject({ type: 'order.created', exchange: 'orders', aggregate_id: ORDER, origin: 'test', published_at: null });
    expect(Number(row!.txid)).toBeGreaterThan(0);
    expect(envelopeFromRow(row!)).toEqual(envelope);
    expect(envelope.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(row!.partition).toBe(partitionOf(ORDER));
  });

  test("an event type outside the catalog is published on its aggregate type's exchange, or on the exchange it names", async () => {
    const book = '0190c0de-0000-7000-8000-0000000000b0';
    const [saved, named] = await db.knex.transaction(async (trx) => [
      await outbox.add(trx, { type: 'book.saved', aggregateType: 'books', subject: book, data: {} }),
      await outbox.add(trx, { type: 'book.saved', aggregateType: 'books', exchange: 'library', subject: book, data: {} }),
    ]);
    const rows = await db.knex<OutboxRow>('outbox.events').whereIn('id', [saved.id, named.id]).orderBy('sequence');
    expect(rows.map((r) => [r.exchange, r.aggregate_type, Number(r.sequence)])).toEqual([['books', 'books', 1], ['library', 'books', 2]]);
    // Without either, the catalog cannot place it: refused rather than published nowhere.
    await expect(db.knex.transaction((trx) => outbox.add(trx, { type: 'book.saved', subject: book, data: {} }))).rejects.toThrow(/No exchange/);
  });

  test('an event added in a transaction that rolls back leaves no row', async () => {
    const before = await db.knex('outbox.events').count<{ count: string }[]>('* as count');
    await expect(
      db.knex.transaction(async (trx) => {
        await outbox.add(trx, { type: 'order.cancelled', subject: ORDER, data: {} });
        throw new Error('use case failed after writing its event');
      }),
    ).rejects.toThrow('use case failed');
    const after = await db.knex('outbox.events').count<{ count: string }[]>('* as count');
    expect(after[0].count).toBe(before[0].count);
  });

  test('events of one aggregate get consecutive sequences, even from concurrent transactions', async () => {
    const subject = '0190c0de-0000-7000-8000-000000000002';
    const sequences = await Promise.all(
      Array.from({ length: 10 }, () =>
        db.knex.transaction((trx) => outbox.add(trx, { type: 'product.updated', subject, data: {} })).then((e) => e.sequence),
      ),
    );
    expect(sequences.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('a plain connection is refused: an event must share its state change\'s transaction', async () => {
    await expect(outbox.add(db.knex as never, { type: 'order.created', subject: ORDER, data: {} })).rejects.toThrow(/transaction/);
  });

  test('the insert notifies the relay channel at commit', async () => {
    const conn = await db.knex.client.acquireConnection();
    const seen: string[] = [];
    conn.on('notification', (msg: { channel: string }) => seen.push(msg.channel));
    await conn.query('LISTEN banyan_outbox');
    await db.knex.transaction((trx) => outbox.add(trx, { type: 'user.registered', subject: ORDER, data: {} }));
    await new Promise((r) => setTimeout(r, 100));
    await db.knex.client.releaseConnection(conn);
    expect(seen).toContain('banyan_outbox');
  });
});
