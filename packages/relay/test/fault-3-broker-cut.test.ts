import type { TestDatabase } from '@banyan/testing';
import type { Relay } from '../src';
import {
  captureQueue, effectsConsumer, orderViolations, outboxDatabase, repeatedIds, sleep, startProxy, startRelay, testNamespace, unpublished, writeEvents,
} from './support';

/**
 * Fault 3. Injected: while 5,000 events are being written and relayed, the relay's connection to
 * RabbitMQ (through a TCP proxy of the test's own) is reset three times and once silently
 * partitioned (the proxy forwards nothing, no FIN, no RST) until the confirm timeout gives up on
 * it. Before each fault the proxy holds the broker's replies and the test commits 10 more events,
 * and the fault strikes once the relay has sent publishes since: the broker received them and
 * never confirmed them (a fast relay otherwise often has nothing unconfirmed at that instant). Held: every such
 * publish is sent again after the fault, the consumer's inbox recognises each repeat as a
 * duplicate and applies every event once, all events arrive in per-aggregate order, all are marked.
 */
describe('fault 3: broker connection cut during a stream', () => {
  let db: TestDatabase;
  let relay: Relay | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let capture: Awaited<ReturnType<typeof captureQueue>>;
  let consumer: Awaited<ReturnType<typeof effectsConsumer>>;
  const namespace = testNamespace('fault3');

  beforeAll(async () => {
    db = await outboxDatabase('relay_fault3');
    proxy = await startProxy();
    capture = await captureQueue(namespace);
    consumer = await effectsConsumer(db, namespace);
  });

  afterAll(async () => {
    await relay?.stop();
    await proxy.close();
    await consumer.close();
    await capture.close();
    await db.drop();
  });

  it('When the connection is cut four times with publishes unconfirmed, then those are re-sent, the inbox absorbs every repeat, and all events arrive in order', async () => {
    /** For each event, the faults that cut off one of its publishes before its confirm. */
    const failedAt = new Map<string, Set<number>>();
    /** The fault being injected (0: an attempt that found nothing to cut off, not counted). */
    let tag = 0;
    relay = await startRelay(db, namespace, {
      url: proxy.url,
      batchSize: 200,
      confirmTimeoutMs: 2_000,
      afterConfirm: (rows, results) => {
        rows.forEach((row, i) => {
          const result = results[i];
          if (!result.ok && result.kind === 'transport') failedAt.set(row.id, (failedAt.get(row.id) ?? new Set()).add(tag));
        });
      },
    });
    const writing = writeEvents(db.knex, 5_000, { aggregates: 100, perTransaction: 10 });

    const midStream = async () => {
      // Strike only when something is flowing, so each fault lands in the middle of the stream.
      const seen = capture.distinct();
      for (let i = 0; i < 250 && capture.distinct() === seen; i++) await sleep(20);
    };
    let faults = 0;
    let probes = 0;
    /**
     * Hold the broker's replies, commit 10 events, and wait until the relay has sent publishes
     * since: those reached the broker and cannot have been confirmed. (If it had two batches
     * waiting already, it sends nothing more; the attempt is then still a fault, but not
     * counted, and it is tried again.) Then inject `fault`.
     */
    const strike = async (fault: () => Promise<void>) => {
      for (let attempt = 0; attempt < 10; attempt++) {
        await midStream();
        proxy.holdReplies();
        const sent = proxy.clientBytes();
        await writeEvents(db.knex, 10, { aggregates: 10, perTransaction: 10 });
        probes++;
        for (let i = 0; i < 50 && proxy.clientBytes() - sent < 1_000; i++) await sleep(20);
        const unconfirmed = proxy.clientBytes() - sent >= 1_000;
        await sleep(200); // the broker routes what it received
        tag = unconfirmed ? ++faults : 0;
        await fault();
        if (unconfirmed) return;
      }
      throw new Error('ten times the relay published nothing while its confirms were held');
    };

    for (let i = 0; i < 3; i++) {
      await strike(async () => {
        proxy.cut();
        // At once: a reconnect through a proxy still holding replies would hang in its handshake.
        proxy.resume();
        await sleep(300);
      });
    }
    await strike(async () => {
      proxy.freeze();
      await sleep(2_500); // longer than the confirm timeout: the relay must give the socket up itself
      proxy.resume();
    });

    await writing;
    const total = 5_000 + 10 * probes;
    expect(await capture.waitFor(total, 60_000)).toBe(total);
    expect(faults).toBe(4);
    expect(orderViolations(capture.received)).toEqual([]);

    // Counted: per fault, the events whose publish it cut off unconfirmed and that arrived again.
    const repeated = repeatedIds(capture.received);
    const resent = [1, 2, 3, 4].map((k) => [...repeated].filter((id) => failedAt.get(id)?.has(k)).length);
    for (const n of resent) expect(n).toBeGreaterThan(0);
    // Every repeat is such an event: nothing the broker had confirmed was sent again.
    for (const id of repeated) expect(failedAt.has(id)).toBe(true);

    const repeats = capture.received.length - capture.distinct();
    await consumer.waitFor(total + repeats);
    expect(consumer.outcomes).toEqual({ processed: total, duplicate: repeats });
    expect(await consumer.effects()).toBe(total);
    await sleep(300);
    expect(await unpublished(db.knex)).toBe(0);
    console.log(
      `fault 3: ${resent.join(' + ')} events published and unconfirmed at the 4 faults (${probes} attempts) were re-sent; ` +
        `${repeats} repeats in all, each one a duplicate for the inbox, ${total} effects applied once`,
    );
  }, 90_000);
});
