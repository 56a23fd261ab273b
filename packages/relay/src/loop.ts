import type { Knex } from '@banyan/db';
import type { Names } from '@banyan/messaging';
import type { Logger } from '@banyan/telemetry';
import type { InFlightBatches } from './in-flight';
import type { PartitionLeases } from './leases';
import { toMessage } from './messages';
import type { ConfirmPublisher } from './publisher';
import { deletePublished, fetchBatch } from './store';
import type { OutboxWakeup } from './wakeup';

export interface RelayLoop {
  instanceId: string;
  knex: Knex;
  logger: Logger;
  names: Names;
  publisher: ConfirmPublisher;
  leases: PartitionLeases;
  wakeup: OutboxWakeup;
  inFlight: InFlightBatches;
  signal: AbortSignal;
  batchSize: number;
  batchesInFlight: number;
  pollIntervalMs: number;
  leaseTtlMs: number;
  retentionMs: number;
  cleanupIntervalMs: number;
}

/**
 * Up to `batchesInFlight` batches overlap on one channel (ADR 0106, 0107): while the oldest
 * waits for its confirms, the next ones are read (leaving out every row in flight) and
 * published behind it, so the broker receives everything in outbox order. A NOTIFY during a
 * read makes one more read; any number of them while reading make one. Lease changes and
 * cleanup run only with nothing in flight. Returns when `signal` aborts, with nothing in flight.
 */
export async function runRelayLoop(loop: RelayLoop): Promise<void> {
  const { knex, logger, publisher, leases, wakeup, inFlight, signal } = loop;
  const idleMs = Math.min(loop.pollIntervalMs, loop.leaseTtlMs / 3);
  let lastRebalance = 0;
  let lastCleanup = Date.now();
  let failuresInARow = 0;

  while (!signal.aborted) {
    try {
      await publisher.ready(signal);
      if (signal.aborted) break;
      const oldest = inFlight.oldest;
      if (inFlight.mustDrain || (oldest && oldest.generation !== publisher.generation)) {
        // Nothing is sent on a new channel while batches of the old one are unsettled: they
        // could be re-sent behind it (ADR 0103).
        await inFlight.drain();
        inFlight.mustDrain = false;
        continue;
      }
      if (Date.now() - lastRebalance >= loop.leaseTtlMs / 3) {
        await inFlight.drain();
        await leases.rebalance();
        lastRebalance = Date.now();
      }
      if (Date.now() - lastCleanup >= loop.cleanupIntervalMs) {
        await inFlight.drain();
        const deleted = await deletePublished(knex, loop.retentionMs);
        if (deleted) logger.info({ deleted }, 'published events past retention deleted');
        lastCleanup = Date.now();
      }
      if (inFlight.size >= loop.batchesInFlight) {
        await inFlight.oldest!.done;
        continue;
      }
      wakeup.reading();
      const readAfter = inFlight.recordedUpTo;
      const rows = await fetchBatch(knex, loop.instanceId, loop.batchSize, inFlight.positions());
      failuresInARow = 0;
      if (rows.length === 0) {
        await wakeup.idle(idleMs);
        continue;
      }
      const built = rows.map((row) => toMessage(row, loop.names));
      const generation = inFlight.oldest ? inFlight.oldest.generation : publisher.generation;
      inFlight.add({
        rows,
        spans: built.map((b) => b.span),
        results: publisher.publishBatch(built.map((b) => b.message), generation),
        generation,
        readAfter,
      });
      // A short read means the backlog is empty as of its snapshot: wait for the next NOTIFY
      // (at once if one came during the read) rather than read again.
      if (rows.length < loop.batchSize) await wakeup.idle(idleMs);
    } catch (err) {
      // The database went away or a query failed: nothing unconfirmed was marked, so nothing
      // is lost; what is in flight is settled (or left unmarked) before trying again.
      failuresInARow++;
      const delay = Math.min(100 * 2 ** failuresInARow, 5_000);
      logger.error({ err: (err as Error).message, retryInMs: delay }, 'relay round failed');
      await new Promise((r) => setTimeout(r, delay));
      await inFlight.drain();
    }
  }
  await inFlight.drain();
}
