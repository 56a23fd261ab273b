import type { Knex } from '@banyan/db';
import type { DaySales, ProductSales } from './reports';

const COUNTED = 'o.confirmed_on IS NOT NULL AND NOT o.cancelled';

/**
 * Definition 2's totals (ADR 0341): after a batch, the days and products its orders touched are
 * summed again from the per-order tables, in the batch's transaction. Recomputing (rather than
 * adding deltas) keeps them right whatever order an order's events arrive in, as the per-order
 * rows are.
 */
export async function refreshTotals(trx: Knex.Transaction, s: string, orderIds: string[]): Promise<void> {
  if (!orderIds.length) return;
  const { rows: days } = await trx.raw<{ rows: Array<{ day: string }> }>(
    `SELECT DISTINCT to_char(confirmed_on, 'YYYY-MM-DD') AS day FROM ${s}.orders WHERE order_id = ANY(?::uuid[]) AND confirmed_on IS NOT NULL`,
    [orderIds],
  );
  const { rows: products } = await trx.raw<{ rows: Array<{ product_id: string }> }>(`SELECT DISTINCT product_id FROM ${s}.order_lines WHERE order_id = ANY(?::uuid[])`, [orderIds]);
  const dayList = days.map((d) => d.day);
  const productList = products.map((p) => p.product_id);
  await trx.raw(`DELETE FROM ${s}.daily_sales WHERE day = ANY(?::date[])`, [dayList]);
  await trx.raw(
    `INSERT INTO ${s}.daily_sales (day, orders, revenue_cents)
     SELECT o.confirmed_on, count(*), sum(o.total_cents) FROM ${s}.orders o
      WHERE o.confirmed_on = ANY(?::date[]) AND NOT o.cancelled
      GROUP BY o.confirmed_on`,
    [dayList],
  );
  await trx.raw(`DELETE FROM ${s}.product_sales WHERE product_id = ANY(?::uuid[])`, [productList]);
  await trx.raw(
    `INSERT INTO ${s}.product_sales (product_id, quantity, revenue_cents)
     SELECT l.product_id, sum(l.quantity), sum(l.revenue_cents) FROM ${s}.order_lines l
       JOIN ${s}.orders o ON o.order_id = l.order_id AND ${COUNTED}
      WHERE l.product_id = ANY(?::uuid[])
      GROUP BY l.product_id`,
    [productList],
  );
}

export async function salesByDayFromTotals(db: Knex, s: string, from: string, to: string): Promise<DaySales[]> {
  const { rows } = await db.raw<{ rows: Array<{ date: string; orders: number; revenue_cents: string; signups: string }> }>(
    `SELECT to_char(d.day, 'YYYY-MM-DD') AS date, coalesce(t.orders, 0) AS orders, coalesce(t.revenue_cents, 0) AS revenue_cents,
            (SELECT count(*) FROM ${s}.signups g WHERE g.registered_on = d.day::date) AS signups
       FROM generate_series(?::date, ?::date, interval '1 day') AS d(day)
       LEFT JOIN ${s}.daily_sales t ON t.day = d.day::date
      ORDER BY d.day`,
    [from, to],
  );
  return rows.map((r) => ({ date: r.date, orders: Number(r.orders), revenueCents: Number(r.revenue_cents), signups: Number(r.signups) }));
}

export async function topProductsFromTotals(db: Knex, s: string, limit: number): Promise<ProductSales[]> {
  const { rows } = await db.raw<{ rows: Array<{ product_id: string; name: string | null; quantity: string; revenue_cents: string }> }>(
    `SELECT t.product_id, p.name, t.quantity, t.revenue_cents FROM ${s}.product_sales t
       LEFT JOIN ${s}.products p ON p.product_id = t.product_id
      ORDER BY t.quantity DESC, t.revenue_cents DESC, t.product_id
      LIMIT ?`,
    [limit],
  );
  return rows.map((r) => ({ productId: r.product_id, name: r.name, quantity: Number(r.quantity), revenueCents: Number(r.revenue_cents) }));
}
