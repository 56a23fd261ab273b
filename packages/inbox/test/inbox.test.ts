import { randomUUID } from 'node:crypto';
import { migrate } from '@banyan/db';
import type { EventEnvelope } from '@banyan/events';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { inboxSchema, processOnce, pruneInbox, startInboxPruner } from '../src';

/** The inbox on a real database: what it remembers, and for how long. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('inbox');
  await migrate(db.knex, [inboxSchema]);
});
afterAll(() => db.drop());

const event = (): EventEnvelope<{ n: number }> => ({
  specversion: '1.0',
  id: randomUUID(),
  source: '/test',
  type: 'product.stock_changed',
  subject: randomUUID(),
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  sequence: 1,
  origin: 'monolith',
  data: { n: 1 },
});

async function applied(e: EventEnvelope<{ n: number }>, consumer = 'test') {
  let effects = 0;
  const outcome = await processOnce(db.knex, consumer, e, async () => {
    effects++;
  });
  return { outcome, effects };
}

describe('inbox retention', () => {
  test('pruneInbox deletes the rows older than the retention and keeps the rest: a recent event stays a duplicate, a pruned one would apply again', async () => {
    const old = event();
    const recent = event();
    await applied(old);
    await applied(recent);
    // Injected: the first event was applied 15 days ago.
    await db.knex('inbox.processed').where({ event_id: old.id }).update({ processed_at: db.knex.raw("now() - interval '15 days'") });

    const deleted = await pruneInbox(db.knex, 14 * 24 * 3_600_000);

    expect(deleted).toBe(1);
    expect(await applied(recent)).toEqual({ outcome: 'duplicate', effects: 0 });
    // Which is why the retention must outlast every redelivery the system can produce.
    expect(await applied(old)).toEqual({ outcome: 'processed', effects: 1 });
  });

  test('pruneInbox works in chunks until nothing old is left', async () => {
    const events = Array.from({ length: 25 }, event);
    for (const e of events) await applied(e, 'chunked');
    await db.knex('inbox.processed').where({ consumer: 'chunked' }).update({ processed_at: db.knex.raw("now() - interval '2 hours'") });

    expect(await pruneInbox(db.knex, 3_600_000, 10)).toBe(25);
    expect(await db.knex('inbox.processed').where({ consumer: 'chunked' }).count({ n: '*' })).toEqual([{ n: '0' }]);
  });

  test('startInboxPruner prunes at start and reports it; stop waits for a run in progress', async () => {
    const e = event();
    await applied(e, 'pruner');
    await db.knex('inbox.processed').where({ event_id: e.id }).update({ processed_at: db.knex.raw("now() - interval '3 days'") });
    const reports: number[] = [];

    const pruner = startInboxPruner({ knex: db.knex, retentionMs: 24 * 3_600_000, intervalMs: 60_000, onPruned: (n) => reports.push(n) });
    await pruner.stop();

    expect(reports).toEqual([1]);
    expect(await db.knex('inbox.processed').where({ event_id: e.id }).first()).toBeUndefined();
  });
});
