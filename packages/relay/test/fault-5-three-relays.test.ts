import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '@banyan/testing';
import { createOutbox, partitionOf } from '@banyan/outbox';
import type { Relay } from '../src';
import {
  captureQueue, childEnv, effectsConsumer, orderViolations, outboxDatabase, RELAY_MAIN, repeatedIds, sleep, spawnNode, startProxy, startRelay, testNamespace,
  unpublished, writeEvents,
} from './support';

/**
 * Fault 5. Injected: three relay instances at once on a backlog of 5,000 events (two in this
 * process, one the compiled `main.js` in a child, its broker connection through a TCP proxy of
 * the test's), and the child SIGKILLed mid-stream after the proxy held back the broker's replies
 * and the child sent publishes since: it dies with publishes the broker received and never
 * confirmed (a fast relay otherwise often has none at that instant). Held: all 5,000 arrive,
 * per-aggregate order holds, the instances split the partitions, those unconfirmed publishes are
 * sent again by the relays that take over, every repeat belongs to a partition the killed relay
 * was leasing when it died, and the consumer's inbox counts each repeat as a duplicate and
 * applies every event once.
 */
const outbox = createOutbox({ source: '/banyan/test', origin: 'test' });

describe('fault 5: three relays at once, one killed', () => {
  let db: TestDatabase;
  const relays: Relay[] = [];
  let capture: Awaited<ReturnType<typeof captureQueue>>;
  let child: ReturnType<typeof spawnNode> | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let consumer: Awaited<ReturnType<typeof effectsConsumer>>;
  const namespace = testNamespace('fault5');

  beforeAll(async () => {
    db = await outboxDatabase('relay_fault5');
    proxy = await startProxy();
    capture = await captureQueue(namespace);
    consumer = await effectsConsumer(db, namespace);
  });

  afterAll(async () => {
    await child?.kill9();
    for (const r of relays) await r.stop();
    await proxy.close();
    await consumer.close();
    await capture.close();
    await db.drop();
  });

  it('When three relays share 5,000 events and one dies, then none is lost, order holds, and repeats are only the dead one\'s', async () => {
    await writeEvents(db.knex, 5_000, { aggregates: 200, perTransaction: 500 });
    // Small batches so the work is spread over many rounds and the kill lands mid-stream. The
    // child starts first (it holds every partition until the others join and it gives some up).
    child = spawnNode(RELAY_MAIN, { ...childEnv(db, namespace, proxy.url), RELAY_BATCH_SIZE: '50' });
    const childId = /"instanceId":"([^"]+)"/.exec(await child.waitForLine(/relay started/))![1];
    const [a, b] = await Promise.all([
      startRelay(db, namespace, { batchSize: 50 }),
      startRelay(db, namespace, { batchSize: 50 }),
    ]);
    relays.push(a, b);
    // A stream behind the backlog, so the child still has work whenever it is killed (the three
    // drain 5,000 rows faster than they settle their shares).
    let streamed = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        await writeEvents(db.knex, 20, { aggregates: 20, perTransaction: 20 });
        streamed += 20;
        await sleep(10);
      }
    })();

    // Let the three reach their fair shares and the child mark some of its own, then kill it
    // while it still has work.
    let childPartitions: number[] = [];
    let childMarked = 0;
    for (let i = 0; i < 500; i++) {
      const rows = await db.knex('outbox.relay_leases').where({ owner: childId }).andWhere('expires_at', '>', db.knex.fn.now());
      childPartitions = rows.map((r) => r.partition);
      const marked = Number((await db.knex('outbox.events').whereNotNull('published_at').count<{ n: string }[]>('* as n'))[0].n);
      childMarked = marked - a.stats.published - b.stats.published;
      if (childPartitions.length > 0 && childPartitions.length <= 22 && childMarked > 0 && a.stats.published > 0 && b.stats.published > 0) break;
      await sleep(10);
    }
    expect(childMarked).toBeGreaterThan(0);
    expect(childPartitions.length).toBeGreaterThan(0);
    const owners = await db.knex('outbox.relay_leases').distinct('owner').whereNotNull('owner');
    // Confirms held, then 10 events of the child's own partitions committed: if it has room in
    // flight it publishes them, and they reach the broker and can never be confirmed; if it has
    // two batches waiting, those are the unconfirmed ones. Either way it dies with some.
    proxy.holdReplies();
    const sent = proxy.clientBytes();
    const leased = (await db.knex('outbox.relay_leases').where({ owner: childId })).map((r) => r.partition);
    const own = [randomUUID(), randomUUID()].map(function ownPartition(id): string {
      return leased.includes(partitionOf(id)) ? id : ownPartition(randomUUID());
    });
    await db.knex.transaction(async (trx) => {
      for (let i = 0; i < 10; i++) await outbox.add(trx, { type: 'product.stock_changed', subject: own[i % 2], data: { productId: own[i % 2], delta: 1, stock: i, reason: 'adjustment' } });
    });
    for (let i = 0; i < 100 && proxy.clientBytes() - sent < 1_000; i++) await sleep(10);
    const sentWhileHeld = proxy.clientBytes() - sent;
    await sleep(200); // the broker routes what it received
    await child.kill9();
    streaming = false;
    await stream;
    // The backlog, the stream, and the 10 events committed in the child's partitions while held.
    const TOTAL = 5_000 + streamed + 10;
    const distinctAtKill = capture.distinct();
    expect(distinctAtKill).toBeLessThan(TOTAL);

    expect(await capture.waitFor(TOTAL, 60_000)).toBe(TOTAL);
    expect(orderViolations(capture.received)).toEqual([]);
    expect(owners.length).toBe(3);
    expect(a.stats.published).toBeGreaterThan(0);
    expect(b.stats.published).toBeGreaterThan(0);

    const seen = new Set<string>();
    const repeatedPartitions = new Set<number>();
    for (const e of capture.received) {
      if (seen.has(e.id)) repeatedPartitions.add(partitionOf(e.subject));
      seen.add(e.id);
    }
    for (const p of repeatedPartitions) expect([...childPartitions, ...leased]).toContain(p);
    // The dead relay's unconfirmed publishes were sent again, and only they: at most its unmarked
    // batches in flight, RELAY_BATCHES_IN_FLIGHT (default 2, ADR 0106) of RELAY_BATCH_SIZE (50).
    const repeats = capture.received.length - capture.distinct();
    expect(repeatedIds(capture.received).size).toBeGreaterThan(0);
    expect(repeats).toBeLessThanOrEqual(2 * 50);
    // Absorbed: the inbox saw every delivery, applied each event once, and called each repeat a duplicate.
    await consumer.waitFor(TOTAL + repeats);
    expect(consumer.outcomes).toEqual({ processed: TOTAL, duplicate: repeats });
    expect(await consumer.effects()).toBe(TOTAL);
    await sleep(200);
    expect(await unpublished(db.knex)).toBe(0);
    console.log(
      `fault 5: relays marked ${a.stats.published} + ${b.stats.published} + ${TOTAL - a.stats.published - b.stats.published} (the killed one); ` +
        `${repeats} unconfirmed at the kill (${sentWhileHeld} bytes sent after the hold) and re-sent, all in the killed relay's ${childPartitions.length} partitions, all duplicates for the inbox`,
    );
  }, 90_000);
});
