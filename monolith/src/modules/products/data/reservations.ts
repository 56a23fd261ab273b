import type { Knex } from '@banyan/db';
import type { ReservedItem, StockItem } from '../domain/product';

/**
 * Stock held per order, so the monolith's products door can repeat any call it never got an
 * answer to (docs/adr/0302-stock-reservations-across-the-split.md). The module has no such table:
 * in-process, the order's own transaction is the record.
 */
const TABLE = 'products.reservations';

export type ReservationState = 'reserved' | 'released' | 'cancelled';

export interface Reservation {
  orderId: string;
  state: ReservationState;
  items: ReservedItem[] | StockItem[];
}

export const reservationsRepository = {
  /**
   * Claim the order id in `state`; false if a row exists already. A concurrent claim of the same
   * id waits for the first to commit, so exactly one caller acts on an order.
   */
  async claim(trx: Knex.Transaction, orderId: string, state: ReservationState, items: StockItem[]): Promise<boolean> {
    const { rowCount } = await trx.raw(`INSERT INTO ${TABLE} (order_id, state, items) VALUES (?, ?, ?::jsonb) ON CONFLICT (order_id) DO NOTHING`, [
      orderId,
      state,
      JSON.stringify(items),
    ]);
    return rowCount > 0;
  },

  /** The order's row, locked until the transaction ends. */
  async lock(trx: Knex.Transaction, orderId: string): Promise<Reservation> {
    const row = await trx(TABLE).where({ order_id: orderId }).forUpdate().first('order_id', 'state', 'items');
    return { orderId: row.order_id, state: row.state, items: row.items };
  },

  async set(trx: Knex.Transaction, orderId: string, state: ReservationState, items?: StockItem[]): Promise<void> {
    await trx(TABLE)
      .where({ order_id: orderId })
      .update({ state, updated_at: trx.fn.now(), ...(items ? { items: JSON.stringify(items) } : {}) });
  },
};

export type ReservationsRepository = typeof reservationsRepository;
