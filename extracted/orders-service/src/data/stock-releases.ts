import type { Knex } from '@banyan/db';
import type { OrderItem } from '../domain/order';

const TABLE = 'orders.stock_releases';

/**
 * A cancelled order's stock, owed back to products. Recorded in the cancel's own transaction and
 * given back after it commits (a rolled-back cancel gives nothing back); the sweep retries a
 * release the products service did not take. The products side takes each order's release once.
 */
export const stockReleases = {
  async owe(trx: Knex.Transaction, orderId: string, items: OrderItem[]): Promise<void> {
    await trx(TABLE).insert({ order_id: orderId, items: JSON.stringify(items) }).onConflict('order_id').ignore();
  },
  async settled(db: Knex, orderId: string): Promise<void> {
    await db(TABLE).where({ order_id: orderId }).update({ released_at: db.fn.now() });
  },
  async owed(db: Knex, olderThanMs: number, limit: number): Promise<Array<{ orderId: string; items: OrderItem[] }>> {
    const rows: Array<{ order_id: string; items: OrderItem[] }> = await db(TABLE)
      .whereNull('released_at')
      .where('created_at', '<=', db.raw('now() - make_interval(secs => ?)', [olderThanMs / 1000]))
      .orderBy('created_at')
      .limit(limit);
    return rows.map((r) => ({ orderId: r.order_id, items: r.items }));
  },
};

export type StockReleases = typeof stockReleases;
