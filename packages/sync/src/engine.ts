import type { Knex } from '@banyan/db';
import type { DomainSyncSpec, SyncRow, TableSyncSpec } from './types';
import { continueSequences } from '@banyan/outbox';

/**
 * The domain-independent half of `banyan backfill` and `banyan verify`. Everything a domain
 * knows lives in its DomainSyncSpec; this file only pages, copies and compares.
 */

const keyOf = (row: SyncRow, table: TableSyncSpec) => String(row[table.key]);

function readBatch(table: TableSyncSpec, db: Knex, side: 'source' | 'target', afterKey: string | null, limit: number): Promise<SyncRow[]> {
  if (table.batch) return table.batch(db, side, afterKey, limit);
  const name = side === 'source' ? table.source : table.target;
  const columns = [...new Set([...table.columns, table.version])];
  return db(name)
    .modify((q) => (afterKey === null ? q : q.where(table.key, '>', afterKey)))
    .orderBy(table.key)
    .limit(limit)
    .select(columns);
}

export interface BackfillProgress {
  table: string;
  /** Rows in the source table when the run started (the bar's total). */
  total: number;
  /** Rows read so far in this table, including those a previous run already copied. */
  done: number;
}

export interface BackfillResult {
  /** Rows read from the source in this run. */
  read: number;
  /** Rows written to the target (new, or newer than the target's copy). */
  written: number;
  /** Rows the target already held at the same or a newer version. */
  skipped: number;
}

/** Where a run stopped, per domain and table, kept in the target database so a rerun resumes. */
const CHECKPOINTS = 'banyan_sync.backfill_checkpoints';

async function ensureCheckpoints(target: Knex) {
  await target.raw(`CREATE SCHEMA IF NOT EXISTS banyan_sync;
    CREATE TABLE IF NOT EXISTS ${CHECKPOINTS} (
      domain text NOT NULL, table_name text NOT NULL, last_key text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (domain, table_name))`);
}

/**
 * Copy the source's rows into the target in key order, one transaction per batch (rows, the
 * aggregate counters and the checkpoint commit together, so a crash resumes at the last whole
 * batch). A row is written only where the target's copy is older: a change the service has
 * already made or received is never replaced by an older one. A finished run clears its
 * checkpoints, so the next backfill starts over and picks up rows changed since.
 */
export async function backfill(
  spec: DomainSyncSpec,
  db: { source: Knex; target: Knex },
  options: { batchSize?: number; onProgress?: (p: BackfillProgress) => void } = {},
): Promise<BackfillResult> {
  const batchSize = options.batchSize ?? 500;
  await ensureCheckpoints(db.target);
  const result: BackfillResult = { read: 0, written: 0, skipped: 0 };
  for (const table of spec.tables) {
    const [{ count }] = await db.source(table.source).count<{ count: string }[]>('* as count');
    const total = Number(count);
    const checkpoint = await db.target(CHECKPOINTS).where({ domain: spec.domain, table_name: table.target }).first('last_key');
    let afterKey: string | null = checkpoint?.last_key ?? null;
    let done = 0;
    if (afterKey !== null) {
      const [{ count: before }] = await db.source(table.source).where(table.key, '<=', afterKey).count<{ count: string }[]>('* as count');
      done = Number(before);
    }
    options.onProgress?.({ table: table.source, total, done });
    for (;;) {
      const rows = await readBatch(table, db.source, 'source', afterKey, batchSize);
      if (rows.length === 0) break;
      const lastKey = keyOf(rows.at(-1)!, table);
      const written = await retryingConcurrentInserts(() =>
        db.target.transaction(async (trx) => {
          const count = await upsertNewer(trx, table, rows);
          if (table.aggregateType) await raiseSequences(trx, table, rows);
          await trx(CHECKPOINTS)
            .insert({ domain: spec.domain, table_name: table.target, last_key: lastKey })
            .onConflict(['domain', 'table_name'])
            .merge({ last_key: lastKey, updated_at: trx.fn.now() });
          return count;
        }),
      );
      result.read += rows.length;
      result.written += written;
      result.skipped += rows.length - written;
      done += rows.length;
      afterKey = lastKey;
      options.onProgress?.({ table: table.source, total: Math.max(total, done), done });
    }
  }
  await db.target(CHECKPOINTS).where({ domain: spec.domain }).delete();
  return result;
}

/**
 * The backfill runs while the sync consumer applies the other side's events. When the consumer
 * inserts a row this batch also inserts (same key, same unique values), the batch waits for it
 * and then collides on a unique index other than the key (a product's `sku`), which
 * `ON CONFLICT (key)` does not arbitrate: PostgreSQL raises 23505. Once that row has committed,
 * the batch run again sees it as a key conflict and keeps the newer version. A collision that
 * stays after a retry is real (two rows with one sku) and is thrown.
 *
 * A deadlock (40P01) is retried too, as PostgreSQL advises for any transaction it aborts to break
 * one. Banyan's writers all lock a product's row before its sequence counter, so none is expected;
 * the retry is for writers a team adds, and a deadlock that stays is thrown like any error.
 */
export async function retryingConcurrentInserts<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!RETRIED.has((err as { code?: string }).code ?? '') || attempt >= attempts) throw err;
    }
  }
}
const RETRIED = new Set(['23505', '40P01']);

async function upsertNewer(trx: Knex.Transaction, table: TableSyncSpec, rows: SyncRow[]): Promise<number> {
  const columns = [...new Set([...table.columns, table.version])];
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const values = rows.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
  const updates = columns.filter((c) => c !== table.key).map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ');
  const { rowCount } = await trx.raw(
    `INSERT INTO ${table.target} AS t (${columns.map(q).join(', ')}) VALUES ${values}
     ON CONFLICT (${q(table.key)}) DO UPDATE SET ${updates} WHERE t.${q(table.version)} < EXCLUDED.${q(table.version)}`,
    rows.flatMap((row) => columns.map((c) => row[c] as Knex.Value)),
  );
  return rowCount ?? 0;
}

/** The service's next own write on a copied aggregate must number after the copied version. */
async function raiseSequences(trx: Knex.Transaction, table: TableSyncSpec, rows: SyncRow[]) {
  const versioned = rows.filter((r) => Number(r[table.version]) > 0);
  await continueSequences(
    trx,
    versioned.map((r) => ({ aggregateType: table.aggregateType!, aggregateId: keyOf(r, table), sequence: Number(r[table.version]) })),
  );
}

export interface Difference {
  table: string;
  key: string;
  kind: 'missing in target' | 'missing in source' | 'differs';
  /** For `differs`: column → [source value, target value] (SECRET_VALUE for both in a secret column). */
  columns?: Record<string, [unknown, unknown]>;
}

/** What a difference shows instead of a secret column's values. */
export const SECRET_VALUE = '(secret, not shown)';

/** Values as both databases' drivers may return them (Dates, numeric strings), made comparable. */
export const comparable = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Walk both tables in key order at once (a merge join in batches), so memory stays bounded by the
 * batch size whatever the table size. Compares `columns` and the version.
 */
export async function verify(spec: DomainSyncSpec, db: { source: Knex; target: Knex }, options: { batchSize?: number } = {}): Promise<{ compared: number; differences: Difference[] }> {
  const batchSize = options.batchSize ?? 500;
  const differences: Difference[] = [];
  let compared = 0;
  for (const table of spec.tables) {
    const columns = [...new Set([...table.columns, table.version])];
    const cursor = (side: 'source' | 'target') => {
      let buffer: SyncRow[] = [];
      let after: string | null = null;
      let exhausted = false;
      return async (): Promise<SyncRow | undefined> => {
        if (buffer.length === 0 && !exhausted) {
          buffer = await readBatch(table, side === 'source' ? db.source : db.target, side, after, batchSize);
          if (buffer.length < batchSize) exhausted = true;
          if (buffer.length) after = keyOf(buffer.at(-1)!, table);
        }
        return buffer.shift();
      };
    };
    const nextSource = cursor('source');
    const nextTarget = cursor('target');
    let s = await nextSource();
    let t = await nextTarget();
    while (s || t) {
      compared++;
      const sk = s && keyOf(s, table);
      const tk = t && keyOf(t, table);
      if (s && (!t || sk! < tk!)) {
        differences.push({ table: table.source, key: sk!, kind: 'missing in target' });
        s = await nextSource();
      } else if (t && (!s || tk! < sk!)) {
        differences.push({ table: table.target, key: tk!, kind: 'missing in source' });
        t = await nextTarget();
      } else {
        const differing = columns.filter((c) => comparable(s![c]) !== comparable(t![c]));
        if (differing.length) {
          const shown = (c: string): [unknown, unknown] => (table.secret?.includes(c) ? [SECRET_VALUE, SECRET_VALUE] : [s![c], t![c]]);
          differences.push({ table: table.target, key: sk!, kind: 'differs', columns: Object.fromEntries(differing.map((c) => [c, shown(c)])) });
        }
        s = await nextSource();
        t = await nextTarget();
      }
    }
  }
  return { compared, differences };
}
