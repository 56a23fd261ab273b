import type { TestDatabase } from '@banyan/testing';
import type { Relay } from '../src';
import {
  captureQueue, childEnv, orderViolations, outboxDatabase, RELAY_MAIN, sleep, spawnNode, startProxy, startRelay, testNamespace, unpublished, writeEvents,
} from './support';

/**
 * Fault 2. Injected: the relay process (the compiled `main.js`) SIGKILLed in the middle of a
 * batch, while the broker had received part of it and no confirm had come back (a TCP proxy
 * held the broker's replies). Held: nothing was marked, a new relay publishes all 2,000 events,
 * per-aggregate order holds, and the only repeats are the killed batches'. The relay keeps up to
 * two batches in flight (ADR 0106, 0107), so with confirms held back both may have gone out.
 */
/** Wait until no message has arrived for `quietMs` (within 20 s), then give how many distinct ones did. */
async function quiet(capture: Awaited<ReturnType<typeof captureQueue>>, quietMs: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  let seen = capture.received.length;
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`messages still arriving after 20 s (${seen} so far)`);
    await sleep(50);
    if (capture.received.length !== seen) {
      seen = capture.received.length;
      since = Date.now();
    }
  }
  return capture.distinct();
}

describe('fault 2: relay killed mid-batch, before confirms', () => {
  let db: TestDatabase;
  let relay: Relay | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let capture: Awaited<ReturnType<typeof captureQueue>>;
  const namespace = testNamespace('fault2');
  let child: ReturnType<typeof spawnNode> | undefined;

  beforeAll(async () => {
    db = await outboxDatabase('relay_fault2');
    proxy = await startProxy();
    capture = await captureQueue(namespace);
  });

  afterAll(async () => {
    await child?.kill9();
    await relay?.stop();
    await proxy.close();
    await capture.close();
    await db.drop();
  });

  it('When the relay dies with a batch in flight and unconfirmed, then every event is published by the next relay', async () => {
    child = spawnNode(RELAY_MAIN, { ...childEnv(db, namespace, proxy.url), RELAY_BATCH_SIZE: '500' });
    await child.waitForLine(/connected to RabbitMQ/);
    proxy.holdReplies();
    const before = proxy.clientBytes();
    await writeEvents(db.knex, 2_000, { aggregates: 40, perTransaction: 500 });
    // Wait until the relay has pushed a good part of a batch towards the broker.
    for (let i = 0; i < 200 && proxy.clientBytes() - before < 100_000; i++) await sleep(20);
    expect(proxy.clientBytes() - before).toBeGreaterThan(100_000);
    await child.kill9();

    // Counted once the broker has routed everything the killed relay got to it: at least one
    // message arrived, then none for a whole second.
    expect(await capture.waitFor(1, 3_000)).toBeGreaterThan(0);
    const reachedBroker = await quiet(capture, 1_000);
    // Held: the broker got part of what was in flight (at most two batches), the outbox marked none of it.
    expect(reachedBroker).toBeGreaterThan(0);
    expect(reachedBroker).toBeLessThanOrEqual(2 * 500);
    expect(await unpublished(db.knex)).toBe(2_000);

    relay = await startRelay(db, namespace);
    expect(await capture.waitFor(2_000)).toBe(2_000);
    expect(orderViolations(capture.received)).toEqual([]);
    const repeats = capture.received.length - capture.distinct();
    expect(repeats).toBeLessThanOrEqual(reachedBroker);
    await sleep(200);
    expect(await unpublished(db.knex)).toBe(0);
  });
});
