import type { Knex } from '@banyan/db';

/**
 * What an outbox is doing, read from its tables: what `banyan outbox` prints and the gateway's
 * dashboard shows, one function so the terminal and the screen can never disagree. It lives with
 * the tables it reads (this package owns the outbox schema), so neither tool imports the other.
 */
export interface OutboxReport {
  /** Rows waiting to be published (parked ones excluded). */
  backlog: number;
  /** Seconds since the oldest waiting row was written; null when nothing waits. */
  oldestUnpublishedAgeSeconds: number | null;
  /** Write → published delay over the last 1,000 published rows, in milliseconds. */
  lagMs: { p50: number; p99: number; max: number } | null;
  /** Rows that failed and will be retried (not yet parked). */
  retrying: number;
  /** Rows the relay gave up on; each holds back its aggregate's later events. */
  parked: Array<{ id: string; type: string; aggregateId: string; attempts: number; lastError: string | null; parkedAt: string }>;
  /** Relay instances seen recently and how many partitions each leases. */
  relays: Array<{ instance: string; partitions: number; seenAt: string }>;
}

export async function outboxReport(knex: Knex): Promise<OutboxReport> {
  const [backlog, lag, parked, relays] = await Promise.all([
    // What is left to publish is `outbox.unpublished` (ADR 0108): walk it and look each event up
    // by its key, so the report costs the backlog, never a scan of the retained published rows.
    knex.raw<{ rows: Array<{ waiting: string; retrying: string; oldest: number | null }> }>(`
      SELECT count(*) FILTER (WHERE e.parked_at IS NULL) AS waiting,
             count(*) FILTER (WHERE e.parked_at IS NULL AND e.attempts > 0) AS retrying,
             extract(epoch FROM clock_timestamp() - min(e.created_at) FILTER (WHERE e.parked_at IS NULL))::float8 AS oldest
        FROM outbox.unpublished u
       CROSS JOIN LATERAL (SELECT * FROM outbox.events WHERE position = u.position OFFSET 0) e
       WHERE e.published_at IS NULL`),
    // The latest 1,000 published rows, newest positions first (the primary key, walked backwards).
    knex.raw<{ rows: Array<{ p50: number | null; p99: number | null; max: number | null }> }>(`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY d) AS p99, max(d) AS max
        FROM (SELECT extract(epoch FROM published_at - created_at) * 1000 AS d
                FROM outbox.events WHERE published_at IS NOT NULL ORDER BY position DESC LIMIT 1000) recent`),
    knex.raw<{ rows: Array<{ id: string; type: string; aggregate_id: string; attempts: number; last_error: string | null; parked_at: Date }> }>(`
      SELECT e.id, e.type, e.aggregate_id, e.attempts, e.last_error, e.parked_at
        FROM outbox.unpublished u
       CROSS JOIN LATERAL (SELECT * FROM outbox.events WHERE position = u.position OFFSET 0) e
       WHERE e.parked_at IS NOT NULL AND e.published_at IS NULL ORDER BY u.position LIMIT 100`),
    knex.raw<{ rows: Array<{ id: string; seen_at: Date; partitions: string }> }>(`
      SELECT i.id, i.seen_at, count(l.partition) AS partitions
        FROM outbox.relay_instances i
        LEFT JOIN outbox.relay_leases l ON l.owner = i.id AND l.expires_at > clock_timestamp()
       GROUP BY i.id, i.seen_at ORDER BY i.id`),
  ]);
  const b = backlog.rows[0];
  const l = lag.rows[0];
  return {
    backlog: Number(b.waiting),
    oldestUnpublishedAgeSeconds: b.oldest === null ? null : Number(b.oldest),
    lagMs: l.p50 === null ? null : { p50: Number(l.p50), p99: Number(l.p99), max: Number(l.max) },
    retrying: Number(b.retrying),
    parked: parked.rows.map((r) => ({
      id: r.id,
      type: r.type,
      aggregateId: r.aggregate_id,
      attempts: r.attempts,
      lastError: r.last_error,
      parkedAt: new Date(r.parked_at).toISOString(),
    })),
    relays: relays.rows.map((r) => ({ instance: r.id, partitions: Number(r.partitions), seenAt: new Date(r.seen_at).toISOString() })),
  };
}
