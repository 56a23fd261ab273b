import type { Knex } from '@banyan/db';
import type { StockItem } from '../domain/product';

/**
 * The door's ledger of stock calls to the products service (only while products is extracted,
 * docs/adr/0302-stock-reservations-across-the-split.md). It lives in the monolith's database, so
 * the order's own transaction decides each row's fate: a row left `reserving` belongs to an order
 * that never committed and must be compensated; a row `releasing` is stock owed back.
 */
const TABLE = 'products.remote_reservations';

export type LedgerState = 'reserving' | 'reserved' | 'cancelled' | 'releasing' | 'released';

export interface LedgerRow {
  orderId: string;
  state: LedgerState;
  items: StockItem[];
}

export const remoteReservationsRepository = {
  /** Committed on its own before the call, so a crash after the call still leaves a trace. */
  async open(knex: Knex, orderId: string, items: StockItem[]): Promise<void> {
    await knex(TABLE).insert({ order_id: orderId, state: 'reserving', items: JSON.stringify(items) });
  },

  /** Upsert in the caller's transaction: committed with it, or not at all. */
  async set(trx: Knex | Knex.Transaction, orderId: string, state: LedgerState, items?: StockItem[]): Promise<void> {
    await trx.raw(
      `INSERT INTO ${TABLE} (order_id, state, items) VALUES (?, ?, ?::jsonb)
       ON CONFLICT (order_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()${items ? ', items = EXCLUDED.items' : ''}`,
      [orderId, state, JSON.stringify(items ?? [])],
    );
  },

  /** Only if still in `from`: a settled row is never moved back by a late duplicate. */
  async move(knex: Knex | Knex.Transaction, orderId: string, from: LedgerState, to: LedgerState): Promise<void> {
    await knex(TABLE).where({ order_id: orderId, state: from }).update({ state: to, updated_at: knex.fn.now() });
  },

  /**
   * Open rows older than `minAgeMs` whose transaction is over: an order still in its transaction
   * holds its row's lock, and SKIP LOCKED leaves it alone. Locked until `trx` ends.
   */
  async claimStale(trx: Knex.Transaction, minAgeMs: number, limit: number): Promise<LedgerRow[]> {
    const rows = await trx(TABLE)
      .whereIn('state', ['reserving', 'releasing'])
      .andWhere('updated_at', '<', trx.raw(`now() - make_interval(secs => ?)`, [minAgeMs / 1000]))
      .orderBy('updated_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .select('order_id', 'state', 'items');
    return rows.map((r) => ({ orderId: r.order_id, state: r.state, items: r.items }));
  },
};
