import { performance } from 'node:perf_hooks';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Knex } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import { classify, record, type FailurePolicy, type RelayStats } from './marking';
import type { PublishResult } from './publisher';
import type { RelayRow } from './store';

/** A batch as published: what the loop hands over. */
export interface SentBatch {
  rows: RelayRow[];
  spans: Span[];
  results: Promise<PublishResult[]>;
  generation: number;
  /** Every batch up to this seq had its outcome recorded when this one was read. */
  readAfter: number;
}

interface Batch extends SentBatch {
  seq: number;
  positions: string[];
  startedAt: number;
  /** Its confirms are in and `afterConfirm` ran (undefined: it threw). */
  confirmed: Promise<PublishResult[] | undefined>;
  /** Marked and its failures recorded (or given up): its rows may be read again. */
  done: Promise<void>;
}

export interface InFlightOptions {
  knex: Knex;
  logger: Logger;
  stats: RelayStats;
  failurePolicy: FailurePolicy;
  afterConfirm?: (rows: RelayRow[], results: PublishResult[]) => void | Promise<void>;
  /** Read again soon: a row failed and is due for another try, or a batch must be re-sent. */
  wake: () => void;
}

/**
 * The batches published and not yet marked (ADR 0106, 0107). Each is marked as soon as its
 * confirms are in, strictly in batch order, while the loop reads and publishes the next ones.
 * When a batch cannot be settled, it and every batch behind it stay unmarked (they are re-sent)
 * and `mustDrain` tells the loop to settle everything before reading again.
 */
export class InFlightBatches {
  private readonly batches: Batch[] = [];
  private nextSeq = 1;
  /** Every batch up to this seq has its outcome recorded (or was given up). */
  private recorded = 0;
  /** Batches up to this seq mark nothing: one before them could not be settled. */
  private poisonedUntil = 0;
  /** Aggregates that failed, by batch, kept while a batch read before that was recorded is in flight. */
  private readonly failedIn = new Map<number, Set<string>>();
  private confirming: Promise<unknown> = Promise.resolve();
  private settling: Promise<void> = Promise.resolve();
  /** A batch was cut off (transport) or could not be settled: settle everything before reading. */
  mustDrain = false;

  constructor(private readonly options: InFlightOptions) {}

  get size(): number {
    return this.batches.length;
  }

  /** The oldest batch in flight: the next to be marked. */
  get oldest(): { generation: number; done: Promise<void> } | undefined {
    return this.batches[0];
  }

  /** Taken just before a read, as that read's `readAfter`. */
  get recordedUpTo(): number {
    return this.recorded;
  }

  /** Outbox positions in flight: the next read leaves them out. */
  positions(): string[] {
    return this.batches.flatMap((b) => b.positions);
  }

  /** Wait until nothing is in flight. */
  drain(): Promise<void> {
    return this.settling;
  }

  /** Track a published batch: its confirms are awaited, then it is marked, each in batch order. */
  add(sent: SentBatch): void {
    const batch = {
      ...sent,
      seq: this.nextSeq++,
      positions: sent.rows.map((r) => r.position),
      startedAt: performance.now(),
    } as Batch;
    this.batches.push(batch);
    const confirmed = this.confirming.then(() => this.confirm(batch));
    this.confirming = confirmed;
    batch.confirmed = confirmed;
    batch.done = this.settling = this.settling.then(() => this.settle(batch));
  }

  /** Never rejects: a batch whose hook failed resolves to undefined and is not marked. */
  private async confirm(batch: Batch): Promise<PublishResult[] | undefined> {
    try {
      const results = await batch.results;
      batch.spans.forEach((span, i) => {
        const r = results[i];
        if (!r.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: r.error });
        span.end();
      });
      await this.options.afterConfirm?.(batch.rows, results);
      return results;
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'afterConfirm failed; the batch stays unmarked');
      return undefined;
    }
  }

  private async settle(batch: Batch): Promise<void> {
    const { knex, logger, stats, failurePolicy, wake } = this.options;
    try {
      const results = await batch.confirmed;
      const confirmedAt = performance.now();
      if (!results) throw new Error('afterConfirm failed');
      if (batch.seq <= this.poisonedUntil) return;
      const held = new Set<string>();
      for (const [seq, keys] of this.failedIn) if (seq > batch.readAfter && seq < batch.seq) for (const k of keys) held.add(k);
      const outcome = classify(batch.rows, results, held);
      this.failedIn.set(batch.seq, outcome.failedHere);
      if (outcome.transport.length) this.mustDrain = true;
      await record(knex, outcome, { stats, logger, failurePolicy });
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
      this.poisonedUntil = this.nextSeq - 1;
      this.mustDrain = true;
      wake();
    } finally {
      this.recorded = batch.seq;
      this.batches.splice(this.batches.indexOf(batch), 1);
      const oldest = Math.min(this.recorded, ...this.batches.map((b) => b.readAfter));
      for (const seq of this.failedIn.keys()) if (seq <= oldest) this.failedIn.delete(seq);
    }
  }
}
