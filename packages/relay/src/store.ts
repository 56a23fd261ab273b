import type { Knex } from 'knex';
import { deleteInChunks } from '@banyan/db';
import type { OutboxRow } from '@banyan/outbox';

/** ISO 8601 in UTC with milliseconds, as `Date#toISOString()` writes it (and `outbox.add` stored it). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The columns the relay needs to rebuild an envelope and decide about a row. The relay publishes
 * what was stored, so nothing is parsed only to be serialised again: `data` is the jsonb's text,
 * the timestamps are already the envelope's ISO strings.
 */
const COLUMNS = `e.position, e.id, e.source, e.type, e.exchange, e.aggregate_type, e.aggregate_id, e.sequence,
  e.partition, e.origin, ${iso('e.time')} AS time, e.data::text AS data_json, e.traceparent, e.tracestate, e.attempts,
  ${iso('e.created_at')} AS created_at`;

export type RelayRow = Pick<
  OutboxRow,
  | 'position' | 'id' | 'source' | 'type' | 'exchange' | 'aggregate_type' | 'aggregate_id' | 'sequence'
  | 'partition' | 'origin' | 'traceparent' | 'tracestate' | 'attempts'
> & {
  /** The event's time, ISO 8601 (UTC). */
  time: string;
  /** When the row was written, ISO 8601 (UTC), by the database's clock. */
  created_at: string;
  /** The stored `data` as JSON text, exactly what goes into the envelope. */
  data_json: string;
};

/**
 * The next rows to publish from the partitions this instance leases, oldest first.
 *
 * It reads "every committed row not yet published", not "rows after the last one seen": a row
 * whose transaction committed late (after rows with higher positions were published) is simply
 * unpublished and comes up in the next read, so it can never be skipped (ADR 0101). Rows whose
 * transaction is still running are invisible to this snapshot and cannot be published early.
 * A row that failed (or was parked) holds back its aggregate's later rows, so an aggregate's
 * events reach the broker in sequence order. `inFlight` rows (read, not yet confirmed and
 * marked) are left out so the next batch can be read while they wait.
 *
 * The plan matters more than anything else the relay does (ADR 0107, 0108): the leased
 * partitions are an array filter (`= ANY(ARRAY(…))`), not a join, so PostgreSQL walks
 * `outbox.unpublished` (only the rows left to publish, with their partition) in position order,
 * fetches each event by its primary key, and stops after `limit` rows instead of collecting the
 * whole backlog and sorting it. The event is a LATERAL lookup that cannot be flattened
 * (`OFFSET 0`): as a plain join the planner may pick a merge join, which walks every retained
 * published row below the backlog, or a scan of the whole backlog and a sort. `inFlight` is a
 * bound array, planned as a constant, so `<> ALL` is a hash probe. `published_at IS NULL` is
 * checked on the event itself, which stays the truth. `data` comes back as the stored jsonb
 * text (`data_json`), published as is, never parsed.
 */
export async function fetchBatch(knex: Knex, owner: string, limit: number, inFlight: string[] = []): Promise<RelayRow[]> {
  const { rows } = await knex.raw<{ rows: RelayRow[] }>(
    `SELECT ${COLUMNS}
       FROM outbox.unpublished u
      CROSS JOIN LATERAL (SELECT * FROM outbox.events WHERE position = u.position OFFSET 0) e
      WHERE u.partition = ANY(ARRAY(SELECT partition FROM outbox.relay_leases WHERE owner = ? AND expires_at > now()))
        AND u.position <> ALL(?::bigint[])
        AND e.published_at IS NULL AND e.parked_at IS NULL
        AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= now())
        AND NOT EXISTS (
          SELECT 1 FROM outbox.events b
           WHERE b.published_at IS NULL AND (b.attempts > 0 OR b.parked_at IS NOT NULL)
             AND b.aggregate_type = e.aggregate_type AND b.aggregate_id = e.aggregate_id
             AND b.position < e.position)
      ORDER BY u.position
      LIMIT ?`,
    [owner, inFlight, limit],
  );
  return rows;
}

/**
 * Mark a batch's confirmed rows published: one statement for the batch, which sets published_at
 * (a HOT update: no index mentions it, ADR 0108) and takes the rows out of `outbox.unpublished`,
 * atomically. Its commit does not wait for the WAL flush (`synchronous_commit` off for this
 * transaction only): a mark lost in a database crash leaves confirmed rows unpublished, which
 * are then sent again, exactly like a relay killed between confirm and mark (fault test 1), and
 * the inbox drops the repeats. WAL order means what is lost is always the latest marks, so the
 * re-sends keep outbox order. A row is still never marked before its confirm, so nothing can be
 * lost this way (ADR 0107).
 */
export async function markPublished(knex: Knex, positions: string[]): Promise<void> {
  if (!positions.length) return;
  await knex.raw(
    `WITH async AS (SELECT set_config('synchronous_commit', 'off', true)),
          done AS (DELETE FROM outbox.unpublished WHERE position = ANY(?::bigint[]))
     UPDATE outbox.events SET published_at = clock_timestamp() FROM async WHERE position = ANY(?::bigint[])`,
    [positions, positions],
  );
}

/**
 * Count a row's own failure (returned as unroutable, refused by the broker). It is retried after
 * a growing delay and parked, with its last error, after `parkAfter` attempts.
 */
export async function recordFailure(
  knex: Knex,
  position: string,
  error: string,
  policy: { parkAfter: number; backoffMs: number; maxBackoffMs: number },
): Promise<{ attempts: number; parked: boolean }> {
  const { rows } = await knex.raw<{ rows: Array<{ attempts: number; parked: boolean }> }>(
    `UPDATE outbox.events
        SET attempts = attempts + 1,
            last_error = ?,
            next_attempt_at = clock_timestamp() + make_interval(secs => LEAST(?::float8 * power(2, attempts), ?::float8) / 1000),
            parked_at = CASE WHEN attempts + 1 >= ? THEN clock_timestamp() END
      WHERE position = ?
      RETURNING attempts, parked_at IS NOT NULL AS parked`,
    [error.slice(0, 2000), policy.backoffMs, policy.maxBackoffMs, policy.parkAfter, position],
  );
  return rows[0] ?? { attempts: 0, parked: false };
}

/**
 * Delete published rows older than the retention, a chunk at a time so no lock is held long.
 * Rows are found by `created_at` (a BRIN index: the column is never updated, so it costs marks
 * nothing); a row published before the cutoff was created before it too.
 */
export async function deletePublished(knex: Knex, retentionMs: number, chunk = 5_000): Promise<number> {
  const total = await deleteInChunks(
    knex,
    'outbox.events',
    'position',
    `created_at < clock_timestamp() - make_interval(secs => ?::float8 / 1000)
       AND published_at < clock_timestamp() - make_interval(secs => ?::float8 / 1000)`,
    [retentionMs, retentionMs],
    chunk,
  );
  // outbox.unpublished is filled by a trigger and emptied by the relay's marks; an entry whose
  // event was deleted or marked by hand would only be stepped over by every read. Rows being
  // written are invisible here with their entry (one transaction), so none is taken early.
  await knex.raw(
    `DELETE FROM outbox.unpublished u
      WHERE NOT EXISTS (SELECT 1 FROM outbox.events e WHERE e.position = u.position AND e.published_at IS NULL)`,
  );
  return total;
}
