import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Client } from 'pg';
import { createKnex, type ConnectionSettings, type Knex } from '@banyan/db';
import { DOMAINS } from '@banyan/events';
import type { EventEnvelope } from '@banyan/events';
import { names, publishOptions } from '@banyan/messaging';
import { OUTBOX_CHANNEL } from '@banyan/outbox';
import type { Logger } from '@banyan/telemetry';
import { PartitionLeases } from './leases';
import { ConfirmPublisher, type OutgoingMessage, type PublishResult } from './publisher';
import { deletePublished, fetchBatch, markPublished, recordFailure, type RelayRow } from './store';

/**
 * The envelope as JSON with the stored jsonb text spliced in as its `data` (last, as `encode()`
 * writes it): the relay never parses an event's data only to serialise it again.
 */
function encodeStored(head: EventEnvelope, dataJson: string): Buffer {
  const json = JSON.stringify(head); // `data: undefined` is left out
  return Buffer.from(`${json.slice(0, -1)},"data":${dataJson}}`);
}

export interface RelayOptions {
  /** The database whose outbox is relayed (its schema migrated by the process that owns it). */
  database: ConnectionSettings;
  /** RabbitMQ URL. */
  url: string;
  logger: Logger;
  /** Prefix of the exchange names (tests); empty → the contract's exchanges. */
  namespace?: string;
  /** Rows read and published per round trip (at most: a read takes what is there). Default 500. */
  batchSize?: number;
  /**
   * Batches published and not yet marked, at most (ADR 0107). While they wait for their confirms
   * the next ones are read and published behind them on the same channel. After a crash, up to
   * this many batches are sent again. Default 2.
   */
  batchesInFlight?: number;
  /** Safety-net poll when no NOTIFY arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /** How long a partition lease lives without renewal; renewed every third of it. Default 10 s. */
  leaseTtlMs?: number;
  /** Attempts (own failures: returned, nacked) before a row is parked. Default 10. */
  parkAfterAttempts?: number;
  /** First retry delay of a failed row, doubling up to `maxRetryDelayMs`. Default 1000 ms. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Published rows are deleted after this long. Default 7 days. */
  retentionMs?: number;
  cleanupIntervalMs?: number;
  confirmTimeoutMs?: number;
  heartbeatSeconds?: number;
  /** Stable id of this instance in the leases table. Default host:pid:random. */
  instanceId?: string;
  /**
   * Called after a batch's confirms arrived and before its rows are marked: the point where a
   * crash leaves published rows unmarked. Latency metrics hang here; the fault tests stop here.
   */
  afterConfirm?: (rows: RelayRow[], results: PublishResult[]) => void | Promise<void>;
}

export interface RelayStats {
  published: number;
  failed: number;
  parked: number;
  batches: number;
}

export interface Relay {
  readonly instanceId: string;
  readonly stats: RelayStats;
  /** Begin relaying; resolves once the first lease round is done. */
  start(): Promise<void>;
  /** Finish the batch in flight, hand the leases over, close every connection. */
  stop(): Promise<void>;
}

const tracer = trace.getTracer('@banyan/relay');

/**
 * Moves committed outbox rows to RabbitMQ: read a batch from the leased partitions, publish it
 * pipelined on a confirm channel (persistent, mandatory), wait for every confirm, then mark what
 * was confirmed. Anything between publish and mark can be repeated after a crash, so delivery is
 * at-least-once; consumers' inboxes turn that into effects exactly once.
 */
export function createRelay(options: RelayOptions): Relay {
  const logger = options.logger;
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const batchSize = options.batchSize ?? 500;
  const batchesInFlight = Math.max(1, options.batchesInFlight ?? 2);
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const leaseTtlMs = options.leaseTtlMs ?? 10_000;
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
  const cleanupIntervalMs = options.cleanupIntervalMs ?? 60_000;
  const failurePolicy = {
    parkAfter: options.parkAfterAttempts ?? 10,
    backoffMs: options.retryDelayMs ?? 1_000,
    maxBackoffMs: options.maxRetryDelayMs ?? 60_000,
  };
  const n = names(options.namespace);
  const stats: RelayStats = { published: 0, failed: 0, parked: 0, batches: 0 };

  let knex: Knex | undefined;
  let listener: Client | undefined;
  let publisher: ConfirmPublisher | undefined;
  let leases: PartitionLeases | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  let notified = true;
  let wakeUp: (() => void) | undefined;

  const wake = () => {
    notified = true;
    wakeUp?.();
  };

  /** Sleep until NOTIFY, the poll interval, or stop; returns at once if a NOTIFY came meanwhile. */
  async function idle(ms: number) {
    if (notified || stopping.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        stopping.signal.removeEventListener('abort', done);
        resolve();
      }
      wakeUp = done;
      stopping.signal.addEventListener('abort', done, { once: true });
    });
  }

  async function listen() {
    if (stopping.signal.aborted) return;
    const client = new Client({ ...options.database, application_name: `banyan-relay-listen ${instanceId}` });
    client.on('notification', wake);
    client.on('error', (err) => {
      logger.warn({ err: err.message }, 'LISTEN connection lost; polling until it is back');
      if (listener === client) listener = undefined;
      client.end().catch(() => undefined);
      setTimeout(() => listen().catch(() => undefined), 1_000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      listener = client;
      // Rows committed while we were not listening have no NOTIFY coming.
      wake();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'LISTEN failed; polling until it works');
      client.end().catch(() => undefined);
      setTimeout(() => listen().catch(() => undefined), 1_000).unref();
    }
  }

  function toMessage(row: RelayRow): { message: OutgoingMessage; span: Span } {
    // The envelope without its data, in encode()'s key order; the data is spliced in as stored.
    const envelope: EventEnvelope = {
      specversion: '1.0',
      id: row.id,
      source: row.source,
      type: row.type,
      subject: row.aggregate_id,
      time: row.time,
      datacontenttype: 'application/json',
      sequence: Number(row.sequence),
      origin: row.origin,
      data: undefined,
    };
    const carrier: Record<string, string> = {};
    if (row.traceparent) envelope.traceparent = carrier.traceparent = row.traceparent;
    if (row.tracestate) envelope.tracestate = carrier.tracestate = row.tracestate;
    // The span continues the trace of the request that wrote the row, stored with it.
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    const span = tracer.startSpan(
      `${row.type} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'publish',
          'messaging.destination.name': n.exchange(row.exchange),
          'messaging.rabbitmq.destination.routing_key': row.type,
          'messaging.message.id': row.id,
          'banyan.aggregate.id': row.aggregate_id,
          'banyan.aggregate.sequence': Number(row.sequence),
        },
      },
      parent,
    );
    return {
      message: {
        exchange: n.exchange(row.exchange),
        routingKey: row.type,
        content: encodeStored(envelope, row.data_json),
        options: publishOptions(envelope, trace.setSpan(parent, span)),
      },
      span,
    };
  }

  interface Outcome {
    /** Confirmed rows to mark published. */
    published: string[];
    /** Aggregates with a failed row in this batch. */
    failedHere: Set<string>;
    /** The rows' own failures (returned, nacked): they count towards parking. */
    failures: Array<{ row: RelayRow; error: string }>;
    transport: PublishResult[];
  }

  /**
   * Decide what a batch's results mean, in memory. Within one aggregate, nothing after its first
   * failed row is marked even if confirmed: it is re-sent behind the failed one, so a consumer
   * always sees the aggregate's events again in order (the inbox drops the repeats). `held` are
   * the aggregates that failed in batches whose outcome was not yet recorded when this batch was
   * read, so its read could not leave their later rows out.
   */
  function classify(rows: RelayRow[], results: PublishResult[], held: Set<string>): Outcome {
    const outcome: Outcome = { published: [], failedHere: new Set(), failures: [], transport: [] };
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const result = results[i];
      if (result.ok) {
        if (held.size === 0 || !held.has(`${row.aggregate_type}|${row.aggregate_id}`)) outcome.published.push(row.position);
        continue;
      }
      const key = `${row.aggregate_type}|${row.aggregate_id}`;
      held.add(key);
      outcome.failedHere.add(key);
      if (result.kind === 'transport') outcome.transport.push(result);
      else outcome.failures.push({ row, error: result.error });
    }
    return outcome;
  }

  /** Mark what was confirmed (one UPDATE for the batch), count what failed. */
  async function record({ published, failures, transport }: Outcome): Promise<void> {
    await markPublished(knex!, published);
    stats.published += published.length;
    for (const { row, error } of failures) {
      const { attempts, parked } = await recordFailure(knex!, row.position, error, failurePolicy);
      stats.failed++;
      if (parked) stats.parked++;
      logger[parked ? 'error' : 'warn'](
        { eventId: row.id, type: row.type, aggregateId: row.aggregate_id, attempts, error },
        parked ? 'event parked: it will not be retried until an operator acts' : 'event not published; will retry',
      );
    }
    if (transport.length) logger.warn({ rows: transport.length, error: transport[0] }, 'batch interrupted; rows stay unpublished');
  }

  interface Batch {
    seq: number;
    rows: RelayRow[];
    positions: string[];
    spans: Span[];
    results: Promise<PublishResult[]>;
    generation: number;
    startedAt: number;
    /** Every batch up to this one had its outcome recorded when this one was read. */
    readAfter: number;
    /** Its confirms are in and `afterConfirm` ran (undefined: it threw). */
    confirmed: Promise<PublishResult[] | undefined>;
    /** Marked and its failures recorded (or given up): its rows may be read again. */
    done: Promise<void>;
  }

  /**
   * Up to `batchesInFlight` batches overlap on one channel (ADR 0106, 0107): while the oldest
   * waits for its confirms, the next ones are read (leaving out every row in flight) and
   * published behind it, so the broker receives everything in outbox order. Each batch is
   * marked as soon as its confirms are in, in batch order, while the reader goes on. A NOTIFY
   * during a read makes one more read; any number of them while reading make one. Lease changes
   * and cleanup run only with nothing in flight.
   */
  async function runLoop() {
    let lastRebalance = 0;
    let lastCleanup = Date.now();
    let failuresInARow = 0;
    const inFlight: Batch[] = [];
    let nextSeq = 1;
    /** Every batch up to this seq has its outcome recorded (or was given up). */
    let recorded = 0;
    /** Batches up to this seq mark nothing: one before them could not be settled. */
    let poisonedUntil = 0;
    /** A batch was cut off (transport) or could not be settled: settle everything before reading. */
    let mustDrain = false;
    /** Aggregates that failed, by batch, kept while a batch read before that was recorded is in flight. */
    const failedIn = new Map<number, Set<string>>();
    let confirming: Promise<unknown> = Promise.resolve();
    let settling: Promise<void> = Promise.resolve();

    /** Never rejects: a batch whose hook failed resolves to undefined and is not marked. */
    const confirmStep = async (batch: Batch): Promise<PublishResult[] | undefined> => {
      try {
        const results = await batch.results;
        batch.spans.forEach((span, i) => {
          const r = results[i];
          if (!r.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: r.error });
          span.end();
        });
        await options.afterConfirm?.(batch.rows, results);
        return results;
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'afterConfirm failed; the batch stays unmarked');
        return undefined;
      }
    };

    const settle = async (batch: Batch) => {
      try {
        const results = await batch.confirmed;
        const confirmedAt = performance.now();
        if (!results) throw new Error('afterConfirm failed');
        if (batch.seq <= poisonedUntil) return;
        const held = new Set<string>();
        for (const [seq, keys] of failedIn) if (seq > batch.readAfter && seq < batch.seq) for (const k of keys) held.add(k);
        const outcome = classify(batch.rows, results, held);
        failedIn.set(batch.seq, outcome.failedHere);
        if (outcome.transport.length) mustDrain = true;
        await record(outcome);
        stats.batches++;
        if (logger.isLevelEnabled('debug')) {
          logger.debug({ rows: batch.rows.length, publishMs: confirmedAt - batch.startedAt, markMs: performance.now() - confirmedAt }, 'batch relayed');
        }
        if (outcome.failedHere.size) wake();
      } catch (err) {
        // Marking failed (the database went away) or the hook did: this batch's rows stay
        // unpublished and are sent again, and so are those of every batch already behind it,
        // which were read before anyone knew. Nothing new is read until they all settled.
        logger.error({ err: (err as Error).message }, 'batch not marked; its rows will be sent again');
        poisonedUntil = nextSeq - 1;
        mustDrain = true;
        wake();
      } finally {
        recorded = batch.seq;
        inFlight.splice(inFlight.indexOf(batch), 1);
        const oldest = Math.min(recorded, ...inFlight.map((b) => b.readAfter));
        for (const seq of failedIn.keys()) if (seq <= oldest) failedIn.delete(seq);
      }
    };

    /** Wait until nothing is in flight. */
    const drain = () => settling;

    while (!stopping.signal.aborted) {
      try {
        await publisher!.ready(stopping.signal);
        if (stopping.signal.aborted) break;
        if (mustDrain || (inFlight.length && inFlight[0].generation !== publisher!.generation)) {
          // Nothing is sent on a new channel while batches of the old one are unsettled: they
          // could be re-sent behind it (ADR 0103).
          await drain();
          mustDrain = false;
          continue;
        }
        if (Date.now() - lastRebalance >= leaseTtlMs / 3) {
          await drain();
          await leases!.rebalance();
          lastRebalance = Date.now();
        }
        if (Date.now() - lastCleanup >= cleanupIntervalMs) {
          await drain();
          const deleted = await deletePublished(knex!, retentionMs);
          if (deleted) logger.info({ deleted }, 'published events past retention deleted');
          lastCleanup = Date.now();
        }
        if (inFlight.length >= batchesInFlight) {
          await inFlight[0].done;
          continue;
        }
        notified = false;
        const readAfter = recorded;
        const rows = await fetchBatch(knex!, instanceId, batchSize, inFlight.flatMap((b) => b.positions));
        failuresInARow = 0;
        if (rows.length === 0) {
          await idle(Math.min(pollIntervalMs, leaseTtlMs / 3));
          continue;
        }
        const built = rows.map(toMessage);
        const generation = inFlight.length ? inFlight[0].generation : publisher!.generation;
        const batch = {
          seq: nextSeq++,
          rows,
          positions: rows.map((r) => r.position),
          spans: built.map((b) => b.span),
          results: publisher!.publishBatch(built.map((b) => b.message), generation),
          generation,
          startedAt: performance.now(),
          readAfter,
        } as Batch;
        inFlight.push(batch);
        const confirmed = confirming.then(() => confirmStep(batch));
        confirming = confirmed;
        batch.confirmed = confirmed;
        batch.done = settling = settling.then(() => settle(batch));
        // A short read means the backlog is empty as of its snapshot: wait for the next NOTIFY
        // (at once if one came during the read) rather than read again.
        if (rows.length < batchSize) await idle(Math.min(pollIntervalMs, leaseTtlMs / 3));
      } catch (err) {
        // The database went away or a query failed: nothing unconfirmed was marked, so nothing
        // is lost; what is in flight is settled (or left unmarked) before trying again.
        failuresInARow++;
        const delay = Math.min(100 * 2 ** failuresInARow, 5_000);
        logger.error({ err: (err as Error).message, retryInMs: delay }, 'relay round failed');
        await new Promise((r) => setTimeout(r, delay));
        await drain();
      }
    }
    await drain();
  }

  return {
    instanceId,
    stats,
    async start() {
      // Reads, marks of earlier batches and lease renewals run at the same time.
      knex = createKnex(options.database, { min: 1, max: 4 });
      leases = new PartitionLeases(knex, instanceId, leaseTtlMs);
      publisher = new ConfirmPublisher({
        url: options.url,
        logger,
        heartbeatSeconds: options.heartbeatSeconds,
        confirmTimeoutMs: options.confirmTimeoutMs,
        exchanges: DOMAINS.map((d) => n.exchange(d)),
      });
      await leases.rebalance();
      renewTimer = setInterval(() => {
        leases!.renew().catch((err: Error) => logger.warn({ err: err.message }, 'lease renewal failed'));
      }, leaseTtlMs / 3);
      await listen();
      loop = runLoop();
      logger.info({ instanceId, partitions: (await leases.owned()).length }, 'relay started');
    },
    async stop() {
      stopping.abort();
      await loop;
      clearInterval(renewTimer);
      await leases?.releaseAll().catch(() => undefined);
      const l = listener;
      listener = undefined;
      await l?.end().catch(() => undefined);
      await publisher?.close();
      await knex?.destroy();
    },
  };
}
