import { context, propagation } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Migration, SchemaOwner } from '@banyan/db';
import { exchangeFor, type EventEnvelope } from '@banyan/events';

export const OUTBOX_SCHEMA = 'outbox';
export const OUTBOX_TABLE = `${OUTBOX_SCHEMA}.events`;
/** NOTIFY channel the relay LISTENs on; fired once per inserting statement, delivered at commit. */
export const OUTBOX_CHANNEL = 'banyan_outbox';

/** How many relay partitions aggregates are hashed into (leases are taken per partition). */
export const OUTBOX_PARTITIONS = 64;

const migrations: Migration[] = [
  {
    name: '001_outbox',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE outbox.aggregate_sequences (
          aggregate_type text NOT NULL,
          aggregate_id text NOT NULL,
          last_sequence bigint NOT NULL,
          PRIMARY KEY (aggregate_type, aggregate_id)
        );
        CREATE TABLE outbox.events (
          position bigserial PRIMARY KEY,
          id uuid NOT NULL UNIQUE,
          source text NOT NULL,
          type text NOT NULL,
          exchange text NOT NULL,
          aggregate_type text NOT NULL,
          aggregate_id text NOT NULL,
          sequence bigint NOT NULL,
          partition smallint NOT NULL,
          origin text NOT NULL,
          time timestamptz NOT NULL,
          data jsonb NOT NULL,
          traceparent text,
          tracestate text,
          -- The writing transaction: a reader compares it with pg_snapshot_xmin(pg_current_snapshot())
          -- so a row whose transaction commits late is never skipped.
          txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
          created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          -- Written by the relay only; writers append and never update.
          published_at timestamptz,
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          parked_at timestamptz,
          UNIQUE (aggregate_type, aggregate_id, sequence)
        );
        CREATE INDEX events_unpublished ON outbox.events (partition, position) WHERE published_at IS NULL AND parked_at IS NULL;
        CREATE INDEX events_published_at ON outbox.events (published_at) WHERE published_at IS NOT NULL;
        CREATE FUNCTION outbox.notify_relay() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('${OUTBOX_CHANNEL}', '');
          RETURN NULL;
        END $$;
        CREATE TRIGGER events_notify AFTER INSERT ON outbox.events
          FOR EACH STATEMENT EXECUTE FUNCTION outbox.notify_relay();
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE outbox.events; DROP TABLE outbox.aggregate_sequences; DROP FUNCTION outbox.notify_relay()');
    },
  },
  {
    // What the relay (@banyan/relay) needs beyond the append-only log: when a failed row may be
    // retried, a small index of the failing rows (each one holds back its aggregate's later
    // events, so per-aggregate order survives a failure), and the partition leases through which
    // several relay instances split the work.
    name: '002_relay',
    async up(knex) {
      await knex.raw(`
        ALTER TABLE outbox.events ADD COLUMN next_attempt_at timestamptz;
        CREATE INDEX events_failing ON outbox.events (aggregate_type, aggregate_id, position)
          WHERE published_at IS NULL AND (attempts > 0 OR parked_at IS NOT NULL);
        CREATE TABLE outbox.relay_leases (
          partition smallint PRIMARY KEY,
          owner text,
          expires_at timestamptz NOT NULL DEFAULT '-infinity'
        );
        INSERT INTO outbox.relay_leases (partition) SELECT generate_series(0, ${OUTBOX_PARTITIONS - 1});
        CREATE TABLE outbox.relay_instances (
          id text PRIMARY KEY,
          seen_at timestamptz NOT NULL
        );
      `);
    },
    async down(knex) {
      await knex.raw(`
        DROP TABLE outbox.relay_instances; DROP TABLE outbox.relay_leases;
        DROP INDEX outbox.events_failing; ALTER TABLE outbox.events DROP COLUMN next_attempt_at;
      `);
    },
  },
  {
    // Every publish updates a row, leaving a dead entry in the unpublished-rows index that each
    // relay read must step over until vacuum removes it. The default thresholds (20 % of the table)
    // wait far too long on a large, retained outbox; vacuum it after ~1 % instead.
    name: '003_relay_vacuum',
    async up(knex) {
      await knex.raw(`ALTER TABLE outbox.events SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000)`);
    },
    async down(knex) {
      await knex.raw(`ALTER TABLE outbox.events RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)`);
    },
  },
  {
    // The relay reads "the oldest unpublished rows of my partitions". Keyed by (partition,
    // position), PostgreSQL fetched every unpublished row of every leased partition and sorted
    // them to return one batch: 80-140 ms per read on a 50,000-row backlog, so a drain cost
    // O(backlog²). Keyed by position, the read walks in order and stops after one batch (< 1 ms),
    // filtering the partitions as it goes (ADR 0107). A production table this large would be
    // re-indexed CONCURRENTLY, outside a transaction.
    name: '004_unpublished_by_position',
    async up(knex) {
      await knex.raw(`
        DROP INDEX outbox.events_unpublished;
        CREATE INDEX events_unpublished ON outbox.events (position) WHERE published_at IS NULL AND parked_at IS NULL;
      `);
    },
    async down(knex) {
      await knex.raw(`
        DROP INDEX outbox.events_unpublished;
        CREATE INDEX events_unpublished ON outbox.events (partition, position) WHERE published_at IS NULL AND parked_at IS NULL;
      `);
    },
  },
  {
    // Marking a row published was a non-HOT update: published_at appeared in three indexes (the
    // unpublished and failing rows' predicates, the published_at index), so each mark wrote a new
    // row version elsewhere plus an entry in every index of the table (pkey, id, aggregate
    // sequence, published_at): ~6 WAL records per row, 12-45 ms of PostgreSQL per 1,000 rows,
    // on the same two cores as the broker (ADR 0108). Now no index mentions published_at, so a
    // mark is a HOT update on its own page (fillfactor 50 keeps room for a page's worth of new
    // versions; the old ones are pruned in place), and "what is left to publish" is a narrow
    // table of its own, filled by a trigger in the writer's transaction and emptied by the mark
    // in the same statement that sets published_at. published_at stays the truth (the read also
    // checks it), so everything that reads it (`banyan outbox`, the metrics) means what it did.
    // Retention finds old rows by created_at (never updated, so a BRIN index costs marks nothing;
    // a row is always published after it was created). A production table this large would get
    // its indexes CONCURRENTLY and the fillfactor would apply to new pages only, as here.
    name: '005_unpublished_table_hot_marks',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE outbox.unpublished (
          position bigint PRIMARY KEY,
          partition smallint NOT NULL
        ) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
        INSERT INTO outbox.unpublished (position, partition)
          SELECT position, partition FROM outbox.events WHERE published_at IS NULL;
        CREATE FUNCTION outbox.track_unpublished() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO outbox.unpublished (position, partition)
            SELECT position, partition FROM added WHERE published_at IS NULL;
          RETURN NULL;
        END $$;
        CREATE TRIGGER events_track_unpublished AFTER INSERT ON outbox.events
          REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION outbox.track_unpublished();
        DROP INDEX outbox.events_unpublished;
        DROP INDEX outbox.events_published_at;
        DROP INDEX outbox.events_failing;
        CREATE INDEX events_failing ON outbox.events (aggregate_type, aggregate_id, position)
          WHERE attempts > 0 OR parked_at IS NOT NULL;
        CREATE INDEX events_created_at ON outbox.events USING brin (created_at);
        ALTER TABLE outbox.events SET (fillfactor = 50);
      `);
    },
    async down(knex) {
      await knex.raw(`
        ALTER TABLE outbox.events RESET (fillfactor);
        DROP INDEX outbox.events_created_at;
        DROP INDEX outbox.events_failing;
        CREATE INDEX events_failing ON outbox.events (aggregate_type, aggregate_id, position)
          WHERE published_at IS NULL AND (attempts > 0 OR parked_at IS NOT NULL);
        CREATE INDEX events_published_at ON outbox.events (published_at) WHERE published_at IS NOT NULL;
        CREATE INDEX events_unpublished ON outbox.events (position) WHERE published_at IS NULL AND parked_at IS NULL;
        DROP TRIGGER events_track_unpublished ON outbox.events;
        DROP FUNCTION outbox.track_unpublished();
        DROP TABLE outbox.unpublished;
      `);
    },
  },
];

/** Add this to the process's `migrate()` list; every process with an outbox owns this schema. */
export const outboxSchema: SchemaOwner = { schema: OUTBOX_SCHEMA, migrations };

export interface NewEvent<T = unknown> {
  /** Routing key, e.g. `order.created`. */
  type: string;
  /** The aggregate's id (the envelope's `subject`). */
  subject: string;
  data: T;
  /** Defaults to the exchange derived from the type (`order.*` → `orders`). */
  aggregateType?: string;
  /** Set when the event re-applies a change made elsewhere (two-way sync); defaults to the outbox's origin. */
  origin?: string;
  /** Set when replaying another side's event so both sides share one sequence (two-way sync). */
  sequence?: number;
}

export interface Outbox {
  /** Write `event` in `trx`. It exists if and only if `trx` commits. */
  add<T>(trx: Knex.Transaction, event: NewEvent<T>): Promise<EventEnvelope<T>>;
}

/** Stable hash of an aggregate id into a relay partition (FNV-1a, so every language can repeat it). */
export function partitionOf(aggregateId: string, partitions = OUTBOX_PARTITIONS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < aggregateId.length; i++) {
    hash ^= aggregateId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

export function createOutbox(options: { source: string; origin: string }): Outbox {
  return {
    async add<T>(trx: Knex.Transaction, event: NewEvent<T>): Promise<EventEnvelope<T>> {
      if (!trx.isTransaction) throw new Error('outbox.add needs the use case\'s transaction, not a plain connection');
      const aggregateType = event.aggregateType ?? exchangeFor(event.type);
      const sequence = await nextSequence(trx, aggregateType, event.subject, event.sequence);
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      const envelope: EventEnvelope<T> = {
        specversion: '1.0',
        id: uuidv7(),
        source: options.source,
        type: event.type,
        subject: event.subject,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        sequence,
        origin: event.origin ?? options.origin,
        ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
        ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
        data: event.data,
      };
      await trx(OUTBOX_TABLE).insert({
        id: envelope.id,
        source: envelope.source,
        type: envelope.type,
        exchange: exchangeFor(event.type),
        aggregate_type: aggregateType,
        aggregate_id: envelope.subject,
        sequence,
        partition: partitionOf(envelope.subject),
        origin: envelope.origin,
        time: envelope.time,
        data: JSON.stringify(envelope.data),
        traceparent: envelope.traceparent ?? null,
        tracestate: envelope.tracestate ?? null,
      });
      return envelope;
    },
  };
}

/**
 * Next number in the aggregate's history. The upsert locks the aggregate's row until commit, so
 * two transactions on one aggregate take their numbers in commit order: seen by any reader, event
 * n-1 is always committed before event n.
 */
async function nextSequence(trx: Knex.Transaction, aggregateType: string, aggregateId: string, forced?: number) {
  const { rows } = await trx.raw<{ rows: Array<{ last_sequence: string }> }>(
    `INSERT INTO outbox.aggregate_sequences (aggregate_type, aggregate_id, last_sequence)
     VALUES (?, ?, ?)
     ON CONFLICT (aggregate_type, aggregate_id)
     DO UPDATE SET last_sequence = GREATEST(outbox.aggregate_sequences.last_sequence + 1, EXCLUDED.last_sequence)
     RETURNING last_sequence`,
    [aggregateType, aggregateId, forced ?? 1],
  );
  return Number(rows[0].last_sequence);
}

/**
 * Two-way sync: after applying the other side's change to an aggregate, raise this side's
 * counter to that change's sequence, so this side's next own event numbers after it instead of
 * colliding with it (the other side would discard a lower or equal sequence as stale).
 * Takes several aggregates at once (a backfill batch); never lowers a counter.
 */
export async function continueSequences(
  trx: Knex.Transaction,
  aggregates: Array<{ aggregateType: string; aggregateId: string; sequence: number }>,
): Promise<void> {
  if (aggregates.length === 0) return;
  await trx.raw(
    `INSERT INTO outbox.aggregate_sequences (aggregate_type, aggregate_id, last_sequence)
     VALUES ${aggregates.map(() => '(?, ?, ?)').join(', ')}
     ON CONFLICT (aggregate_type, aggregate_id)
     DO UPDATE SET last_sequence = GREATEST(outbox.aggregate_sequences.last_sequence, EXCLUDED.last_sequence)`,
    aggregates.flatMap((a) => [a.aggregateType, a.aggregateId, a.sequence]),
  );
}

/** The envelope as the relay publishes it, rebuilt from a stored row. */
export function envelopeFromRow(row: OutboxRow): EventEnvelope {
  return {
    specversion: '1.0',
    id: row.id,
    source: row.source,
    type: row.type,
    subject: row.aggregate_id,
    time: new Date(row.time).toISOString(),
    datacontenttype: 'application/json',
    sequence: Number(row.sequence),
    origin: row.origin,
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
    ...(row.tracestate ? { tracestate: row.tracestate } : {}),
    data: row.data,
  };
}

export interface OutboxRow {
  position: string;
  id: string;
  source: string;
  type: string;
  exchange: string;
  aggregate_type: string;
  aggregate_id: string;
  sequence: string;
  partition: number;
  origin: string;
  time: Date | string;
  data: unknown;
  traceparent: string | null;
  tracestate: string | null;
  txid: string;
  created_at: Date;
  published_at: Date | null;
  attempts: number;
  last_error: string | null;
  parked_at: Date | null;
  next_attempt_at?: Date | null;
}
