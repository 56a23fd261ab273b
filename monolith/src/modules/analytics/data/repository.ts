import type { Knex } from '@banyan/db';

export interface OrderLine {
  productId: string;
  quantity: number;
  revenueCents: number;
}

export interface DaySales {
  date: string;
  orders: number;
  revenueCents: number;
  /** Customers who registered that day. */
  signups: number;
}

export interface ProductSales {
  productId: string;
  name: string | null;
  quantity: number;
  revenueCents: number;
}

const COUNTED = 'o.confirmed_on IS NOT NULL AND NOT o.cancelled';

export const analyticsRepository = {
  async recordConfirmed(trx: Knex.Transaction, order: { orderId: string; totalCents: number; confirmedAt: string }): Promise<void> {
    await trx.raw(
      `INSERT INTO analytics.orders (order_id, total_cents, confirmed_on)
       VALUES (?, ?, (?::timestamptz AT TIME ZONE 'UTC')::date)
       ON CONFLICT (order_id) DO UPDATE SET confirmed_on = EXCLUDED.confirmed_on, total_cents = EXCLUDED.total_cents, updated_at = now()`,
      [order.orderId, order.totalCents, order.confirmedAt],
    );
  },

  async recordCancelled(trx: Knex.Transaction, order: { orderId: string; totalCents: number }): Promise<void> {
    await trx.raw(
      `INSERT INTO analytics.orders (order_id, total_cents, cancelled) VALUES (?, ?, true)
       ON CONFLICT (order_id) DO UPDATE SET cancelled = true, updated_at = now()`,
      [order.orderId, order.totalCents],
    );
  },

  /** Both order events carry the same lines; the first one to arrive writes them. */
  async recordLines(trx: Knex.Transaction, orderId: string, lines: OrderLine[]): Promise<void> {
    await trx('analytics.order_lines')
      .insert(lines.map((l) => ({ order_id: orderId, product_id: l.productId, quantity: l.quantity, revenue_cents: l.revenueCents })))
      .onConflict(['order_id', 'product_id'])
      .ignore();
  },

  async recordProductName(trx: Knex.Transaction, product: { productId: string; name: string; sequence: number }): Promise<void> {
    await trx.raw(
      `INSERT INTO analytics.products (product_id, name, sequence) VALUES (?, ?, ?)
       ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, sequence = EXCLUDED.sequence
       WHERE analytics.products.sequence < EXCLUDED.sequence`,
      [product.productId, product.name, product.sequence],
    );
  },

  /** Idempotent by user: a redelivered user.registered counts once. */
  async recordSignup(trx: Knex.Transaction, signup: { userId: string; registeredAt: string }): Promise<void> {
    await trx.raw(
      `INSERT INTO analytics.signups (user_id, registered_on) VALUES (?, (?::timestamptz AT TIME ZONE 'UTC')::date)
       ON CONFLICT (user_id) DO NOTHING`,
      [signup.userId, signup.registeredAt],
    );
  },

  /** One row per day of [from, to], days without sales included, so a chart needs no gap-filling. */
  async salesByDay(db: Knex, from: string, to: string): Promise<DaySales[]> {
    const { rows } = await db.raw<{ rows: Array<{ date: string; orders: string; revenue_cents: string; signups: string }> }>(
      `SELECT to_char(d.day, 'YYYY-MM-DD') AS date, count(o.order_id) AS orders, coalesce(sum(o.total_cents), 0) AS revenue_cents,
              (SELECT count(*) FROM analytics.signups s WHERE s.registered_on = d.day::date) AS signups
       FROM generate_series(?::date, ?::date, interval '1 day') AS d(day)
       LEFT JOIN analytics.orders o ON o.confirmed_on = d.day::date AND ${COUNTED}
       GROUP BY d.day
       ORDER BY d.day`,
      [from, to],
    );
    return rows.map((r) => ({ date: r.date, orders: Number(r.orders), revenueCents: Number(r.revenue_cents), signups: Number(r.signups) }));
  },

  async topProducts(db: Knex, limit: number): Promise<ProductSales[]> {
    const { rows } = await db.raw<{ rows: Array<{ product_id: string; name: string | null; quantity: string; revenue_cents: string }> }>(
      `SELECT l.product_id, p.name, sum(l.quantity) AS quantity, sum(l.revenue_cents) AS revenue_cents
       FROM analytics.order_lines l
       JOIN analytics.orders o ON o.order_id = l.order_id AND ${COUNTED}
       LEFT JOIN analytics.products p ON p.product_id = l.product_id
       GROUP BY l.product_id, p.name
       ORDER BY quantity DESC, revenue_cents DESC, l.product_id
       LIMIT ?`,
      [limit],
    );
    return rows.map((r) => ({ productId: r.product_id, name: r.name, quantity: Number(r.quantity), revenueCents: Number(r.revenue_cents) }));
  },
};

/** What the use cases get through their callers (domain/ never imports data/ itself). */
export type AnalyticsRepository = typeof analyticsRepository;
