import { randomUUID } from 'node:crypto';
import { createOutbox } from '@banyan/outbox';
import type { TestDatabase } from '@banyan/testing';
import type { Relay } from '../src';
import { captureQueue, orderViolations, outboxDatabase, sleep, startRelay, testNamespace, unpublished, writeEvents } from './support';

const outbox = createOutbox({ source: '/banyan/test', origin: 'test' });
const data = (productId: string, stock: number) => ({ productId, delta: 1, stock, reason: 'adjustment' });

/**
 * Fault 6. Injected: a transaction that takes its position and its aggregate's sequence first and
 * commits last, while 300 later events (and a second event of the same aggregate, blocked on the
 * sequence lock) are written and published. A `position > last seen` poller would have moved past
 * it. Held: it arrives, its aggregate's events arrive in order, and the others were not held up.
 */
describe('fault 6: a long transaction commits late', () => {
  let db: TestDatabase;
  let relay: Relay | undefined;
  let capture: Awaited<ReturnType<typeof captureQueue>>;
  const namespace = testNamespace('fault6');

  beforeAll(async () => {
    db = await outboxDatabase('relay_fault6');
    capture = await captureQueue(namespace);
  });

  afterAll(async () => {
    await relay?.stop();
    await capture.close();
    await db.drop();
  });

  it('When a transaction that wrote an early row commits after later rows were published, then its event still arrives', async () => {
    relay = await startRelay(db, namespace);
    const slow = randomUUID();
    const trx = await db.knex.transaction();
    const early = await outbox.add(trx, { type: 'product.stock_changed', subject: slow, data: data(slow, 1) });
    // The same aggregate's next event: blocked on the sequence lock until the slow one commits.
    const next = db.knex.transaction((t) => outbox.add(t, { type: 'product.stock_changed', subject: slow, data: data(slow, 2) }));

    await writeEvents(db.knex, 300, { aggregates: 10, perTransaction: 10 });
    expect(await capture.waitFor(300)).toBe(300); // the open transaction held nobody up

    await sleep(500);
    await trx.commit();
    const second = await next;
    expect(await capture.waitFor(302)).toBe(302);
    const ids = capture.received.map((e) => e.id);
    expect(ids).toContain(early.id);
    expect(ids.indexOf(early.id)).toBeLessThan(ids.indexOf(second.id));
    expect(orderViolations(capture.received)).toEqual([]);
    // Its position is lower than the 300 already published: it was written first, committed last.
    const [e, last] = await Promise.all([
      db.knex('outbox.events').where({ id: early.id }).first(),
      db.knex('outbox.events').max<{ max: string }[]>('position as max'),
    ]);
    expect(Number(e.position)).toBeLessThan(Number(last[0].max) - 300);
    await sleep(200);
    expect(await unpublished(db.knex)).toBe(0);
  });
});
