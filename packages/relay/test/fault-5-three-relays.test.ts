import type { TestDatabase } from '@banyan/testing';
import { partitionOf } from '@banyan/outbox';
import type { Relay } from '../src';
import {
  captureQueue, childEnv, orderViolations, outboxDatabase, RELAY_MAIN, sleep, spawnNode, startRelay, testNamespace, unpublished, writeEvents,
} from './support';

/**
 * Fault 5. Injected: three relay instances at once on a backlog of 5,000 events (two in this
 * process, one the compiled `main.js` in a child), and the child SIGKILLed mid-stream. Held: all
 * 5,000 arrive, per-aggregate order holds, the instances split the partitions, and every repeat
 * belongs to a partition the killed relay was leasing when it died.
 */
describe('fault 5: three relays at once, one killed', () => {
  let db: TestDatabase;
  const relays: Relay[] = [];
  let capture: Awaited<ReturnType<typeof captureQueue>>;
  let child: ReturnType<typeof spawnNode> | undefined;
  const namespace = testNamespace('fault5');

  beforeAll(async () => {
    db = await outboxDatabase('relay_fault5');
    capture = await captureQueue(namespace);
  });

  afterAll(async () => {
    await child?.kill9();
    for (const r of relays) await r.stop();
    await capture.close();
    await db.drop();
  });

  it('When three relays share 5,000 events and one dies, then none is lost, order holds, and repeats are only the dead one\'s', async () => {
    await writeEvents(db.knex, 5_000, { aggregates: 200, perTransaction: 500 });
    // Small batches so the work is spread over many rounds and the kill lands mid-stream. The
    // child starts first (it holds every partition until the others join and it gives some up).
    child = spawnNode(RELAY_MAIN, { ...childEnv(db, namespace), RELAY_BATCH_SIZE: '50' });
    const childId = /"instanceId":"([^"]+)"/.exec(await child.waitForLine(/relay started/))![1];
    const [a, b] = await Promise.all([
      startRelay(db, namespace, { batchSize: 50 }),
      startRelay(db, namespace, { batchSize: 50 }),
    ]);
    relays.push(a, b);

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
    await child.kill9();
    const distinctAtKill = capture.distinct();
    expect(distinctAtKill).toBeLessThan(5_000);

    expect(await capture.waitFor(5_000, 60_000)).toBe(5_000);
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
    for (const p of repeatedPartitions) expect(childPartitions).toContain(p);
    // At most the dead relay's unmarked batches in flight are re-sent: RELAY_BATCHES_IN_FLIGHT
    // (default 2, ADR 0106) batches of RELAY_BATCH_SIZE (50).
    expect(capture.received.length - capture.distinct()).toBeLessThanOrEqual(2 * 50);
    await sleep(200);
    expect(await unpublished(db.knex)).toBe(0);
    console.log(
      `fault 5: relays marked ${a.stats.published} + ${b.stats.published} + ${5_000 - a.stats.published - b.stats.published} (the killed one); ` +
        `${capture.received.length - capture.distinct()} repeats, all in the killed relay's ${childPartitions.length} partitions`,
    );
  }, 90_000);
});
