import type { Knex } from '@banyan/db';

type Figure = { key: string } & Record<string, unknown>;

/**
 * The analytics figures `banyan verify analytics` compares: per day of the range, the orders that
 * count, their revenue and the signups (GET /api/analytics/sales); per product, the quantity and
 * revenue of the counted orders confirmed in the range (what GET /api/analytics/top-products ranks,
 * for every product rather than the top few). The module and every projection version have the
 * same tables, so one query reads either side: `schema` is `analytics` or the live `analytics_v<n>`.
 */
export async function analyticsFigures(db: Knex, _side: 'source' | 'target', { from, to, schema }: { from: string; to: string; schema: string }): Promise<Figure[]> {
  const s = `"${schema.replace(/"/g, '""')}"`;
  const counted = `o.confirmed_on BETWEEN ?::date AND ?::date AND NOT o.cancelled`;
  const days = await db.raw<{ rows: Array<{ day: string; orders: string; revenue_cents: string; signups: string }> }>(
    `SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
            (SELECT count(*) FROM ${s}.orders o WHERE o.confirmed_on = d.day::date AND NOT o.cancelled) AS orders,
            (SELECT coalesce(sum(o.total_cents), 0) FROM ${s}.orders o WHERE o.confirmed_on = d.day::date AND NOT o.cancelled) AS revenue_cents,
            (SELECT count(*) FROM ${s}.signups g WHERE g.registered_on = d.day::date) AS signups
       FROM generate_series(?::date, ?::date, interval '1 day') AS d(day)`,
    [from, to],
  );
  const products = await db.raw<{ rows: Array<{ product_id: string; name: string | null; quantity: string; revenue_cents: string }> }>(
    `SELECT l.product_id, p.name, sum(l.quantity) AS quantity, sum(l.revenue_cents) AS revenue_cents
       FROM ${s}.order_lines l
       JOIN ${s}.orders o ON o.order_id = l.order_id AND ${counted}
       LEFT JOIN ${s}.products p ON p.product_id = l.product_id
      GROUP BY l.product_id, p.name`,
    [from, to],
  );
  return [
    ...days.rows.map((r) => ({ key: `sales ${r.day}`, orders: Number(r.orders), revenueCents: Number(r.revenue_cents), signups: Number(r.signups) })),
    ...products.rows.map((r) => ({ key: `product ${r.product_id}`, name: r.name, quantity: Number(r.quantity), revenueCents: Number(r.revenue_cents) })),
  ];
}
