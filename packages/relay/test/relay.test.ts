import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createOutbox } from '@banyan/outbox';
import { startTelemetry } from '@banyan/telemetry';
import { eventually, truthy, type TestDatabase } from '@banyan/testing';
import type { Relay } from '../src';
import { captureQueue, orderViolations, outboxDatabase, startRelay, testNamespace, unpublished, writeEvents, sleep } from './support';

describe('relay: outbox → RabbitMQ (real broker, real database)', () => {
  let db: TestDatabase;
  let relay: Relay | undefined;
  let capture: Awaited<ReturnType<typeof captureQueue>> | undefined;

  beforeEach(async () => {
    db = await outboxDatabase('relay_basic');
  });
  afterEach(async () => {
    await relay?.stop();
    await capture?.close();
    relay = undefined;
    capture = undefined;
    await db.drop();
  });

  it('publishes every committed event persistent, with its id, type, content type, timestamp and trace headers, then marks it', async () => {
    const namespace = testNamespace('basic');
    capture = await captureQueue(namespace);
    const { ids } = await writeEvents(db.knex, 300, { aggregates: 7, perTransaction: 10 });
    relay = await startRelay(db, namespace);

    expect(await capture.waitFor(300)).toBe(300);
    expect(orderViolations(capture.received)).toEqual([]);
    const first = capture.received.find((e) => e.id === ids[0])!;
    expect(first._properties).toMatchObject({
      messageId: ids[0],
      type: 'product.stock_changed',
      contentType: 'application/cloudevents+json',
      deliveryMode: 2,
    });
    expect(typeof first._properties.timestamp).toBe('number');
    await sleep(200);
    expect(await unpublished(db.knex)).toBe(0);
  });

  it('retention: deletes published rows older than the retention, and never an unpublished one, however old', async () => {
    const namespace = testNamespace('retention');
    capture = await captureQueue(namespace);
    const old = await writeEvents(db.knex, 40, { aggregates: 4, perTransaction: 10 });
    relay = await startRelay(db, namespace);
    expect(await capture.waitFor(40)).toBe(40);
    await relay.stop();
    relay = undefined;

    // Injected: the 40 published rows and 20 rows never published are made two hours old (the
    // unpublished ones as a relay that was down that long would find them); 20 fresh ones are
    // published after a restart.
    const stale = await writeEvents(db.knex, 20, { aggregates: 2, perTransaction: 10 });
    await db.knex('outbox.events').whereIn('id', [...old.ids, ...stale.ids]).update({ created_at: db.knex.raw("now() - interval '2 hours'") });
    await db.knex('outbox.events').whereIn('id', old.ids).update({ published_at: db.knex.raw("now() - interval '2 hours'") });
    // The restarted relay runs its first cleanup at once: one hour of retention.
    relay = await startRelay(db, namespace, { retentionMs: 3_600_000, cleanupIntervalMs: 1 });
    const fresh = await writeEvents(db.knex, 20, { aggregates: 2, perTransaction: 10 });

    expect(await capture.waitFor(80)).toBe(80);
    await sleep(300);
    const left = await db.knex('outbox.events').pluck('id');
    // The old published rows are gone; the old unpublished ones were published, not deleted, and
    // stay until their own retention has passed since publishing; the fresh ones stay.
    expect(left.filter((id: string) => old.ids.includes(id))).toEqual([]);
    expect(new Set(left)).toEqual(new Set([...stale.ids, ...fresh.ids]));
    expect(await unpublished(db.knex)).toBe(0);
  });

  it('continues the writer\'s trace: the row keeps the traceparent of the span active when it was written, and the message carries the relay\'s publish span, that span\'s child', async () => {
    // A real SDK (W3C propagator, async context, an in-memory exporter), sampling everything.
    const sampler = process.env.OTEL_TRACES_SAMPLER;
    process.env.OTEL_TRACES_SAMPLER = 'always_on';
    const exporter = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: 'relay-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    try {
      const namespace = testNamespace('trace');
      capture = await captureQueue(namespace);
      const writer = await trace.getTracer('relay-test').startActiveSpan('order.place', async (span) => {
        try {
          await writeEvents(db.knex, 1);
          return span.spanContext();
        } finally {
          span.end();
        }
      });
      const row = await db.knex('outbox.events').first();
      expect(row.traceparent).toBe(`00-${writer.traceId}-${writer.spanId}-01`);

      relay = await startRelay(db, namespace);
      await capture.waitFor(1);
      const publish = await eventually(() => exporter.getFinishedSpans().find((s) => s.name === 'product.stock_changed publish'), {
        until: truthy,
        timeoutMs: 5_000,
        what: "the relay's publish span exported",
      });
      expect(publish.spanContext().traceId).toBe(writer.traceId);
      expect(publish.parentSpanContext?.spanId).toBe(writer.spanId);
      expect(String(capture.received[0]._properties.headers!.traceparent)).toBe(`00-${writer.traceId}-${publish.spanContext().spanId}-01`);
    } finally {
      await telemetry.shutdown();
      if (sampler === undefined) delete process.env.OTEL_TRACES_SAMPLER;
      else process.env.OTEL_TRACES_SAMPLER = sampler;
    }
  });

  it('publishes the stored data as it is: the envelope a consumer parses is the one outbox.add wrote', async () => {
    const namespace = testNamespace('envelope');
    capture = await captureQueue(namespace);
    const outbox = createOutbox({ source: '/banyan/test', origin: 'test' });
    const data = { productId: 'p-1', delta: -2, stock: 0.5, reason: 'adjustment', note: 'café "quoted" \\ ✓', tags: ['a', { b: null }] };
    const written = await db.knex.transaction((trx) => outbox.add(trx, { type: 'product.stock_changed', subject: 'p-1', data }));
    relay = await startRelay(db, namespace);
    await capture.waitFor(1);
    const { _properties, ...received } = capture.received[0];
    expect(received).toEqual(written);
    expect(_properties.timestamp).toBe(Math.floor(Date.parse(written.time) / 1000));
  });

  it('with four batches in flight, every event arrives in its aggregate\'s order and every row is marked', async () => {
    const namespace = testNamespace('inflight');
    capture = await captureQueue(namespace);
    await writeEvents(db.knex, 2_000, { aggregates: 20, perTransaction: 250 });
    relay = await startRelay(db, namespace, { batchSize: 50, batchesInFlight: 4 });
    expect(await capture.waitFor(2_000)).toBe(2_000);
    expect(orderViolations(capture.received)).toEqual([]);
    expect(capture.received.length).toBe(capture.distinct());
    for (let i = 0; i < 50 && (await unpublished(db.knex)) > 0; i++) await sleep(50);
    expect(await unpublished(db.knex)).toBe(0);
    expect(relay.stats.published).toBe(2_000);
  });

  it('wakes on NOTIFY: an event committed while idle is published well before the poll interval', async () => {
    const namespace = testNamespace('notify');
    capture = await captureQueue(namespace);
    relay = await startRelay(db, namespace, { pollIntervalMs: 10_000 });
    await sleep(300);
    const started = Date.now();
    await writeEvents(db.knex, 1);
    await capture.waitFor(1, 5_000);
    expect(capture.distinct()).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
