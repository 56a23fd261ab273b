import type { Knex } from '@banyan/db';

/**
 * How `banyan backfill <domain>` and `banyan verify <domain>` (and the gateway's dashboard) move and compare one domain's data
 * between the monolith's database and its extracted service's database.
 *
 * Adding a domain: declare its tables under `domains.<name>.data` in the project's
 * `banyan.migration.ts` (@banyan/migration); `loadSyncSpec(domain)` (spec.ts) reads it from there,
 * with the databases the declaration resolves. Nothing else to register. The engine does the rest:
 * keyset batches, a resumable checkpoint, version-guarded upserts, row-by-row diffs.
 */
export interface DomainSyncSpec {
  /** The routing domain, e.g. `products` (what the user types). */
  domain: string;
  /** The monolith's database (the source of a backfill), e.g. `banyan_monolith`. */
  sourceDatabase: string;
  /** The service's database (the target of a backfill), e.g. `banyan_products`. */
  targetDatabase: string;
  /** Copied in this order (parents before children when there are foreign keys). */
  tables: TableSyncSpec[];
}

/** A row as read by a batch query: column name → value, `key` and `version` included. */
export type SyncRow = Record<string, unknown>;

export interface TableSyncSpec {
  /** Qualified table in the monolith's database, e.g. `products.products`. */
  source: string;
  /** Qualified table in the service's database; usually the same name (the schema moved with the module). */
  target: string;
  /** Primary-key column; keyset pagination orders by it, so it must be unique and comparable (uuid v7 ids are). */
  key: string;
  /** Columns copied and compared (the key included). Same names on both sides. */
  columns: string[];
  /**
   * Column holding the row's per-aggregate version (the outbox sequence of the event that last
   * changed it). A backfill upsert only overwrites a target row whose version is lower, so a
   * change the service already made or replicated is never rolled back by an older copy.
   */
  version: string;
  /**
   * The outbox aggregate type of these rows (e.g. `products`). When set, a backfill also raises
   * the target's `outbox.aggregate_sequences` to the copied version, so the service's next own
   * write on that aggregate continues the sequence instead of restarting at 1 (which the other
   * side would ignore as older).
   */
  aggregateType?: string;
  /**
   * Columns copied and compared like the others but never shown: a difference in one names the
   * column and hides both values (a password hash must not reach a terminal or a CI log).
   */
  secret?: string[];
  /**
   * One page of rows after `afterKey` (null: from the start), ordered by `key`, at most `limit`.
   * Defaults to a plain `SELECT columns FROM table WHERE key > afterKey ORDER BY key LIMIT limit`;
   * override when a row's data is computed (a join, a cast). `side` says which database `db` is.
   */
  batch?(db: Knex, side: 'source' | 'target', afterKey: string | null, limit: number): Promise<SyncRow[]>;
}
