import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Client } from 'pg';
import { createKnex, type ConnectionSettings, type Knex } from '@banyan/db';
import { DOMAINS } from '@banyan/events';
import { encode, names, publishOptions } from '@banyan/messaging';
import { envelopeFromRow, OUTBOX_CHANNEL, type OutboxRow } from '@banyan/outbox';
import type { Logger } from '@banyan/telemetry';
import { PartitionLeases } from './leases';
import { ConfirmPublisher, type OutgoingMessage, type PublishResult } from './publisher';
import { deletePublished, fetchBatch, markPublished, recordFailure, type RelayRow } from './store';

export interface RelayOptions {
  /** The database whose outbox is relayed (its schema migrated by the process that owns it). */
  database: ConnectionSettings;
  /** RabbitMQ URL. */
  url: string;
  logger: Logger;
  /** Prefix of the exchange names (tests); empty → the contract's exchanges. */
  namespace?: string;
  /** Rows read and published per round trip. Default 500. */
  batchSize?: number;
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
    const envelope = envelopeFromRow(row as OutboxRow);
    const carrier: Record<string, string> = {};
    if (row.traceparent) carrier.traceparent = row.traceparent;
    if (row.tracestate) carrier.tracestate = row.tracestate;
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
        content: encode(envelope),
        options: publishOptions(envelope, trace.setSpan(parent, span)),
      },
      span,
    };
  }

  /**
   * Mark what was confirmed, count what failed. Within one aggregate, nothing after its first
   * failed row is marked even if confirmed: it is re-sent behind the failed one, so a consumer
   * always sees the aggregate's events again in order (the inbox drops the repeats). `held` are
   * the aggregates that failed in the batch before, read before that failure was recorded.
   * Returns the aggregates that failed in this batch.
   */
  async function record(rows: RelayRow[], results: PublishResult[], heldBefore: Set<string>): Promise<Set<string>> {
    const published: string[] = [];
    const held = new Set(heldBefore);
    const failedHere = new Set<string>();
    const failures: Array<{ row: RelayRow; error: string }> = [];
    let transport = 0;
    rows.forEach((row, i) => {
      const key = `${row.aggregate_type}|${row.aggregate_id}`;
      const result = results[i];
      if (result.ok) {
        if (!held.has(key)) published.push(row.position);
        return;
      }
      held.add(key);
      failedHere.add(key);
      if (result.kind === 'transport') transport++;
      else failures.push({ row, error: result.error });
    });
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
    if (transport) logger.warn({ rows: transport, error: results.find((r) => !r.ok && r.kind === 'transport') }, 'batch interrupted; rows stay unpublished');
    return failedHere;
  }

  interface InFlight {
    rows: RelayRow[];
    spans: Span[];
    results: Promise<PublishResult[]>;
    generation: number;
    startedAt: number;
  }

  /**
   * Two batches overlap: while batch k waits for its confirms, batch k+1 is read and published
   * behind it on the same channel (so the broker still receives everything in outbox order), and
   * batch k is marked while k+1 waits. Leases change and cleanup run only with nothing in flight.
   */
  async function runLoop() {
    let lastRebalance = 0;
    let lastCleanup = Date.now();
    let failuresInARow = 0;
    let inFlight: InFlight | undefined;
    let held = new Set<string>();

    const settle = async () => {
      const batch = inFlight!;
      inFlight = undefined;
      const results = await batch.results;
      batch.spans.forEach((span, i) => {
        const r = results[i];
        if (!r.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: r.error });
        span.end();
      });
      const confirmedAt = performance.now();
      await options.afterConfirm?.(batch.rows, results);
      held = await record(batch.rows, results, held);
      stats.batches++;
      if (logger.isLevelEnabled('debug')) {
        logger.debug({ rows: batch.rows.length, publishMs: confirmedAt - batch.startedAt, markMs: performance.now() - confirmedAt }, 'batch relayed');
      }
    };
    const drain = async () => {
      if (inFlight) await settle();
      held = new Set();
    };

    while (!stopping.signal.aborted) {
      try {
        await publisher!.ready(stopping.signal);
        if (stopping.signal.aborted) break;
        if (inFlight && inFlight.generation !== publisher!.generation) {
          await drain();
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
        notified = false;
        const rows = await fetchBatch(knex!, instanceId, batchSize, inFlight?.rows.map((r) => r.position));
        if (rows.length === 0) {
          if (inFlight) await drain();
          else await idle(Math.min(pollIntervalMs, leaseTtlMs / 3));
          continue;
        }
        const built = rows.map(toMessage);
        const generation = inFlight?.generation ?? publisher!.generation;
        const next: InFlight = {
          rows,
          spans: built.map((b) => b.span),
          results: publisher!.publishBatch(built.map((b) => b.message), generation),
          generation,
          startedAt: performance.now(),
        };
        if (inFlight) await settle();
        inFlight = next;
        failuresInARow = 0;
      } catch (err) {
        // The database went away or a query failed: nothing unconfirmed was marked, so nothing
        // is lost; what is in flight is settled (or left unmarked) before trying again.
        failuresInARow++;
        const delay = Math.min(100 * 2 ** failuresInARow, 5_000);
        logger.error({ err: (err as Error).message, retryInMs: delay }, 'relay round failed');
        await new Promise((r) => setTimeout(r, delay));
        try {
          await drain();
        } catch {
          inFlight = undefined;
          held = new Set();
        }
      }
    }
    await drain().catch(() => undefined);
  }

  return {
    instanceId,
    stats,
    async start() {
      knex = createKnex(options.database, { min: 1, max: 3 });
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
