import type { Knex } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import type { PublishResult } from './publisher';
import { markPublished, recordFailure, type RelayRow } from './store';

export interface RelayStats {
  published: number;
  failed: number;
  parked: number;
  batches: number;
}

/** When a row that failed on its own is tried again, and when it is parked. */
export interface FailurePolicy {
  parkAfter: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface Outcome {
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
export function classify(rows: RelayRow[], results: PublishResult[], held: Set<string>): Outcome {
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
export async function record(
  knex: Knex,
  { published, failures, transport }: Outcome,
  { stats, logger, failurePolicy }: { stats: RelayStats; logger: Logger; failurePolicy: FailurePolicy },
): Promise<void> {
  await markPublished(knex, published);
  stats.published += published.length;
  for (const { row, error } of failures) {
    const { attempts, parked } = await recordFailure(knex, row.position, error, failurePolicy);
    stats.failed++;
    if (parked) stats.parked++;
    logger[parked ? 'error' : 'warn'](
      { eventId: row.id, type: row.type, aggregateId: row.aggregate_id, attempts, error },
      parked ? 'event parked: it will not be retried until an operator acts' : 'event not published; will retry',
    );
  }
  if (transport.length) logger.warn({ rows: transport.length, error: transport[0] }, 'batch interrupted; rows stay unpublished');
}
