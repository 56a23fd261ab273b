import type { Migration } from '@banyan/db';

/**
 * The outbox schema's history. A migration is history: the NOTIFY channel (OUTBOX_CHANNEL,
 * 'banyan_outbox') and the partition count (OUTBOX_PARTITIONS, 64, so leases 0-63) are written out
 * as they were when these ran, never read from the live constants. Changing either takes a new
 * migration (a new notify_relay function, leases added or removed); reading them here would give a
 * fresh database another trigger or another set of leases than every existing one, silently.
 */
export const migrations: Migration[] = [
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
          PERFORM pg_notify('banyan_outbox', '');
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
        INSERT INTO outbox.relay_leases (partition) SELECT generate_series(0, 63);
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
