/**
 * `npm run bench:relay`: the relay against two baselines on this machine's PostgreSQL and
 * RabbitMQ, then its commit → confirmed latency under a steady load. Prints the figures the
 * issue asks for; docs/benchmarks.md records a run.
 *
 *   (a) raw: amqplib confirm channel, the same envelopes already in memory, pipelined batches —
 *       the broker's limit, with no database at all;
 *   (b) naive: poll a page of rows, publish one, await its confirm, mark it, next;
 *   (c) Banyan's relay draining a backlog of BENCH_ROWS rows (default 50,000);
 * then the cost of tracing: the relay draining BENCH_TRACE_ROWS fresh rows with tracing off (no
 * SDK, as without the preload) and then with the SDK at 100 % sampling exporting over OTLP/HTTP.
 * BENCH_HISTORY=1 runs every relay with the event history stream (ADR 0110), as the relay's main does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { migrate, type Knex } from '@banyan/db';
import { DOMAINS } from '@banyan/events';
import { encode, names, publishOptions } from '@banyan/messaging';
import { createOutbox, envelopeFromRow, outboxSchema, partitionOf, type OutboxRow } from '@banyan/outbox';
import { createLogger, startTelemetry } from '@banyan/telemetry';
import { createTestDatabase } from '@banyan/testing';
import { createRelay } from '@banyan/relay';

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const NAIVE_ROWS = Number(process.env.BENCH_NAIVE_ROWS ?? 3_000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 20);
const TRACE_ROWS = Number(process.env.BENCH_TRACE_ROWS ?? 20_000);
const HISTORY_BYTES = process.env.BENCH_HISTORY === '1' ? 1_000_000_000 : undefined;
const AGGREGATES = 1_000;
const namespace = `bench.${randomBytes(3).toString('hex')}.`;
const n = names(namespace);
const logger = createLogger('relay-bench', process.env.LOG_LEVEL ?? 'warn');

async function insertBacklog(knex: Knex, count: number, sampled = 1) {
  const aggregates = Array.from({ length: AGGREGATES }, () => randomUUID());
  const sequences = new Map<string, number>();
  for (let start = 0; start < count; start += 5_000) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 5_000); i++) {
      const productId = aggregates[i % AGGREGATES];
      const sequence = (sequences.get(productId) ?? 0) + 1;
      sequences.set(productId, sequence);
      rows.push({
        id: randomUUID(),
        source: '/banyan/bench',
        type: 'product.stock_changed',
        exchange: 'products',
        aggregate_type: 'products',
        aggregate_id: productId,
        sequence,
        partition: partitionOf(productId),
        origin: 'bench',
        time: new Date().toISOString(),
        data: JSON.stringify({ productId, delta: 1, stock: i, reason: 'adjustment' }),
        traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${Math.random() < sampled ? '01' : '00'}`,
      });
    }
    await knex('outbox.events').insert(rows);
  }
  await knex.raw('ANALYZE outbox.events');
  await knex.raw('ANALYZE outbox.unpublished');
}

async function rawPublisher(rows: OutboxRow[]): Promise<number> {
  const connection = await amqplib.connect(URL);
  const channel = await connection.createConfirmChannel();
  const messages = rows.map((row) => {
    const envelope = envelopeFromRow(row);
    return { content: encode(envelope), options: publishOptions(envelope) };
  });
  const started = performance.now();
  for (let i = 0; i < messages.length; i += 1_000) {
    for (const m of messages.slice(i, i + 1_000)) {
      if (!channel.publish(n.exchange('products'), 'product.stock_changed', m.content, m.options)) {
        await new Promise((r) => channel.once('drain', r));
      }
    }
    await channel.waitForConfirms();
  }
  const seconds = (performance.now() - started) / 1000;
  await connection.close();
  return rows.length / seconds;
}

async function naiveRelay(knex: Knex, limit: number): Promise<number> {
  const connection = await amqplib.connect(URL);
  const channel = await connection.createConfirmChannel();
  let done = 0;
  const started = performance.now();
  while (done < limit) {
    const rows = await knex<OutboxRow>('outbox.events').whereNull('published_at').orderBy('position').limit(100);
    if (!rows.length) break;
    for (const row of rows) {
      const envelope = envelopeFromRow(row);
      await new Promise<void>((resolve, reject) =>
        channel.publish(n.exchange('products'), row.type, encode(envelope), publishOptions(envelope), (err) => (err ? reject(err) : resolve())),
      );
      await knex('outbox.events').where({ position: row.position }).update({ published_at: knex.fn.now() });
      if (++done >= limit) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await connection.close();
  return done / seconds;
}

async function banyanRelay(db: Awaited<ReturnType<typeof createTestDatabase>>, total: number): Promise<number> {
  let confirmed = 0;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const relay = createRelay({
    database: db.settings,
    url: URL,
    logger,
    namespace,
    batchSize: Number(process.env.BENCH_BATCH ?? 1_000),
    batchesInFlight: process.env.BENCH_IN_FLIGHT ? Number(process.env.BENCH_IN_FLIGHT) : undefined,
    historyMaxBytes: HISTORY_BYTES,
    afterConfirm: (_rows, results) => {
      confirmed += results.filter((r) => r.ok).length;
      if (confirmed >= total) finished();
    },
  });
  const started = performance.now();
  await relay.start();
  await done;
  const seconds = (performance.now() - started) / 1000;
  await relay.stop();
  return total / seconds;
}

async function latency(db: Awaited<ReturnType<typeof createTestDatabase>>) {
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const relay = createRelay({
    database: db.settings,
    url: URL,
    logger,
    namespace,
    historyMaxBytes: HISTORY_BYTES,
    afterConfirm: (rows, results) => {
      const now = performance.now();
      rows.forEach((row, i) => {
        const at = committedAt.get(row.id);
        if (results[i].ok && at !== undefined) latencies.push(Math.max(0, now - at));
      });
    },
  });
  await relay.start();
  const outbox = createOutbox({ source: '/banyan/bench', origin: 'bench' });
  const total = RATE * LATENCY_SECONDS;
  const aggregates = Array.from({ length: 100 }, () => randomUUID());
  const started = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    // Open loop: each write starts at its scheduled time whatever the previous ones are doing.
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const productId = aggregates[i % aggregates.length];
    writes.push(
      (async () => {
        let id = '';
        await db.knex.transaction(async (trx) => {
          id = (await outbox.add(trx, { type: 'product.stock_changed', subject: productId, data: { productId, delta: 1, stock: i, reason: 'adjustment' } })).id;
        });
        committedAt.set(id, performance.now());
      })(),
    );
  }
  await Promise.all(writes);
  const achievedRate = total / ((performance.now() - started) / 1000);
  for (let i = 0; i < 100 && latencies.length < total; i++) await new Promise((r) => setTimeout(r, 50));
  await relay.stop();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { p50: pct(50), p99: pct(99), max: latencies[latencies.length - 1], samples: latencies.length, achievedRate };
}

/**
 * Where the traced run exports: an OTLP/HTTP endpoint that reads and drops every request, so the
 * relay pays for building, batching, serialising and sending its spans, not for a collector.
 * It runs in this process (a collector would not), so its small cost counts against tracing.
 */
async function startSpanSink() {
  let requests = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A fresh backlog of `rows` on a vacuumed, empty table, then the relay draining it. */
async function drainFresh(db: Awaited<ReturnType<typeof createTestDatabase>>, rows: number, sampled = 1) {
  await db.knex('outbox.events').delete();
  await db.knex('outbox.unpublished').delete();
  await db.knex.raw('VACUUM ANALYZE outbox.events');
  await db.knex.raw('VACUUM ANALYZE outbox.unpublished');
  await insertBacklog(db.knex, rows, sampled);
  return banyanRelay(db, rows);
}

async function main() {
  const db = await createTestDatabase('bench_relay');
  const connection = await amqplib.connect(URL);
  const channel = await connection.createChannel();
  const queue = `${namespace}sink`;
  try {
    await migrate(db.knex, [outboxSchema]);
    await channel.assertExchange(n.exchange('products'), 'topic', { durable: true });
    // A quorum queue like every Banyan queue: confirms wait for its (fsynced) write.
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(queue, n.exchange('products'), '#');

    console.log(`relay bench: ${ROWS} rows, ${AGGREGATES} aggregates, quorum queue, ${namespace}`);
    await insertBacklog(db.knex, ROWS);
    const rows = await db.knex<OutboxRow>('outbox.events').orderBy('position');

    const raw = await rawPublisher(rows);
    await channel.purgeQueue(queue);
    console.log(`(a) raw amqplib confirm channel, pipelined: ${raw.toFixed(0)} events/s`);

    const naive = await naiveRelay(db.knex, NAIVE_ROWS);
    await channel.purgeQueue(queue);
    // Unpublish again: published_at back to null, and the rows back on the relay's list (ADR 0108).
    await db.knex('outbox.events').update({ published_at: null });
    await db.knex.raw('INSERT INTO outbox.unpublished (position, partition) SELECT position, partition FROM outbox.events ON CONFLICT DO NOTHING');
    await db.knex.raw('VACUUM ANALYZE outbox.events');
    await db.knex.raw('VACUUM ANALYZE outbox.unpublished');
    console.log(`(b) naive relay (poll, await each confirm), ${NAIVE_ROWS} rows: ${naive.toFixed(0)} events/s`);

    const relay = await banyanRelay(db, ROWS);
    await channel.purgeQueue(queue);
    console.log(`(c) Banyan relay draining ${ROWS} rows: ${relay.toFixed(0)} events/s`);

    await db.knex('outbox.events').delete();
    await db.knex('outbox.unpublished').delete();
    // Steady state: autovacuum (thresholds lowered by outbox migration 003) would have removed
    // the 100,000 dead row versions the phases above left; without this the relay's reads step
    // over them and the latency measures the bench's own history.
    await db.knex.raw('VACUUM ANALYZE outbox.events');
    await db.knex.raw('VACUUM ANALYZE outbox.unpublished');
    const lat = await latency(db);
    await channel.purgeQueue(queue);

    // Tracing last: the SDK cannot be stopped and restarted in one process, so "off" runs first.
    const untraced = await drainFresh(db, TRACE_ROWS);
    await channel.purgeQueue(queue);
    console.log(`(d) relay draining ${TRACE_ROWS} rows, tracing off: ${untraced.toFixed(0)} events/s`);
    const sink = await startSpanSink();
    // The relay continues each row's stored decision (parent-based), so the share of rows whose
    // traceparent says "sampled" is the sampling rate: all of them, then one in ten, which is what
    // rows written behind the default sampler (parentbased_traceidratio 0.1, ADR 0402) carry.
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_always_on';
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = sink.url;
    const telemetry = startTelemetry({ serviceName: 'relay-bench' });
    const traced = await drainFresh(db, TRACE_ROWS, 1);
    await channel.purgeQueue(queue);
    console.log(`(e) relay draining ${TRACE_ROWS} rows, tracing at 100 % (OTLP/HTTP, ${sink.requests()} export requests): ${traced.toFixed(0)} events/s`);
    const tenth = await drainFresh(db, TRACE_ROWS, 0.1);
    await telemetry.shutdown();
    await sink.close();
    await channel.purgeQueue(queue);
    console.log(`(f) relay draining ${TRACE_ROWS} rows, 10 % of them sampled (the default's share): ${tenth.toFixed(0)} events/s`);

    console.log('');
    console.log(`relay ÷ raw   = ${(relay / raw).toFixed(2)}  (goal ≥ 0.7) ${relay / raw >= 0.7 ? 'met' : 'NOT met'}`);
    console.log(`relay ÷ naive = ${(relay / naive).toFixed(1)}  (goal ≥ 5) ${relay / naive >= 5 ? 'met' : 'NOT met'}`);
    console.log(
      `commit → confirmed at ${lat.achievedRate.toFixed(0)} events/s over ${LATENCY_SECONDS} s (${lat.samples} samples): ` +
        `p50 ${lat.p50.toFixed(1)} ms (goal ≤ 10) ${lat.p50 <= 10 ? 'met' : 'NOT met'}, ` +
        `p99 ${lat.p99.toFixed(1)} ms (goal ≤ 50) ${lat.p99 <= 50 ? 'met' : 'NOT met'}, max ${lat.max.toFixed(1)} ms`,
    );
    console.log(`tracing 100 % ÷ off = ${(traced / untraced).toFixed(2)}`);
    console.log(`tracing 10 % ÷ off  = ${(tenth / untraced).toFixed(2)}  (goal ≥ 0.85: default sampling costs ≤ 15 %) ${tenth / untraced >= 0.85 ? 'met' : 'NOT met'}`);
  } finally {
    await channel.deleteQueue(queue).catch(() => undefined);
    if (HISTORY_BYTES) await channel.deleteQueue(n.history).catch(() => undefined);
    for (const d of DOMAINS) await channel.deleteExchange(n.exchange(d)).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
