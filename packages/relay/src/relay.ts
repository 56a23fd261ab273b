import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createKnex, type ConnectionSettings, type Knex } from '@banyan/db';
import { DOMAINS } from '@banyan/events';
import { ensureHistory, names } from '@banyan/messaging';
import type { Logger } from '@banyan/telemetry';
import { InFlightBatches } from './in-flight';
import { PartitionLeases } from './leases';
import { runRelayLoop } from './loop';
import type { RelayStats } from './marking';
import { ConfirmPublisher, type PublishResult } from './publisher';
import type { RelayRow } from './store';
import { OutboxWakeup } from './wakeup';

export type { RelayStats } from './marking';

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
  /**
   * Keep every event also in the history stream (ADR 0110), at most this many bytes; declared and
   * bound at start. Unset: no history (the relay's own tests, which count unroutable events).
   */
  historyMaxBytes?: number;
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

export interface Relay {
  readonly instanceId: string;
  readonly stats: RelayStats;
  /** Begin relaying; resolves once the first lease round is done. */
  start(): Promise<void>;
  /** Finish the batch in flight, hand the leases over, close every connection. */
  stop(): Promise<void>;
}

/**
 * Moves committed outbox rows to RabbitMQ: read a batch from the leased partitions, publish it
 * pipelined on a confirm channel (persistent, mandatory), wait for every confirm, then mark what
 * was confirmed. Anything between publish and mark can be repeated after a crash, so delivery is
 * at-least-once; consumers' inboxes turn that into effects exactly once.
 *
 * The parts, each in its file: when to read (wakeup.ts: LISTEN/NOTIFY and the poll), the loop
 * that reads and publishes (loop.ts, messages.ts), marking what was confirmed (in-flight.ts,
 * marking.ts), which partitions are ours (leases.ts).
 */
export function createRelay(options: RelayOptions): Relay {
  const logger = options.logger;
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseTtlMs = options.leaseTtlMs ?? 10_000;
  const n = names(options.namespace);
  const stats: RelayStats = { published: 0, failed: 0, parked: 0, batches: 0 };

  let knex: Knex | undefined;
  let publisher: ConfirmPublisher | undefined;
  let leases: PartitionLeases | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  const stopping = new AbortController();
  const wakeup = new OutboxWakeup({ database: options.database, instanceId, logger, signal: stopping.signal });
  let loop: Promise<void> | undefined;

  return {
    instanceId,
    stats,
    async start() {
      // Before the first publish, so no event misses the history.
      if (options.historyMaxBytes) await ensureHistory(options.url, { namespace: options.namespace, maxBytes: options.historyMaxBytes });
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
      await wakeup.listen();
      const inFlight = new InFlightBatches({
        knex,
        logger,
        stats,
        failurePolicy: {
          parkAfter: options.parkAfterAttempts ?? 10,
          backoffMs: options.retryDelayMs ?? 1_000,
          maxBackoffMs: options.maxRetryDelayMs ?? 60_000,
        },
        afterConfirm: options.afterConfirm,
        wake: wakeup.wake,
      });
      loop = runRelayLoop({
        instanceId,
        knex,
        logger,
        names: n,
        publisher,
        leases,
        wakeup,
        inFlight,
        signal: stopping.signal,
        batchSize: options.batchSize ?? 500,
        batchesInFlight: Math.max(1, options.batchesInFlight ?? 2),
        pollIntervalMs: options.pollIntervalMs ?? 1_000,
        leaseTtlMs,
        retentionMs: options.retentionMs ?? 7 * 24 * 3600_000,
        cleanupIntervalMs: options.cleanupIntervalMs ?? 60_000,
      });
      logger.info({ instanceId, partitions: (await leases.owned()).length }, 'relay started');
    },
    async stop() {
      stopping.abort();
      await loop;
      clearInterval(renewTimer);
      await leases?.releaseAll().catch(() => undefined);
      await wakeup.close();
      await publisher?.close();
      await knex?.destroy();
    },
  };
}
