import { quoteIdent, type Knex } from '@banyan/db';
import type { Definition } from './projection-tables';
import type { DaySales, ProductSales } from './reports';
import { refreshTotals, salesByDayFromTotals, topProductsFromTotals } from './totals';

export interface OrderLine {
  productId: string;
  quantity: number;
  revenueCents: number;
}

/**
 * What one batch of events changes, folded in memory (domain/project-events.ts): one entry per
 * key, so each statement below touches a row at most once.
 */
export interface ProjectionDelta {
  confirmed: Array<{ orderId: string; totalCents: number; confirmedAt: string }>;
  cancelled: Array<{ orderId: string; totalCents: number }>;
  lines: Array<{ orderId: string } & OrderLine>;
  products: Array<{ productId: string; name: string; sequence: number }>;
  signups: Array<{ userId: string; registeredAt: string }>;
}

const COUNTED = 'o.confirmed_on IS NOT NULL AND NOT o.cancelled';
const json = (rows: unknown[]) => JSON.stringify(rows);

/**
 * The module's repository (monolith/src/modules/analytics/data/repository.ts) on one projection
 * version's schema, its per-event upserts turned into one set-based statement per table and batch
 * (the same conflict rules), so a rebuild from history is not one round trip per event. Under
 * definition 2 it also keeps the totals (data/totals.ts) and reads the reports from them.
 */
export function analyticsRepository(schema: string, definition: Definition = 1) {
  const s = quoteIdent(schema);
  return {
    /** The events of `ids` not applied before (first time seen: inserted now, in `trx`). */
    async claimEvents(trx: Knex.Transaction, ids: string[]): Promise<Set<string>> {
      // A batch with nothing projected (most of the history's events are other kinds) claims nothing: no round trip.
      if (ids.length === 0) return new Set();
      const { rows } = await trx.raw<{ rows: Array<{ event_id: string }> }>(
        `INSERT INTO ${s}.applied_events (event_id) SELECT unnest(?::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id`,
        [ids],
      );
      return new Set(rows.map((r) => r.event_id));
    },

    async apply(trx: Knex.Transaction, delta: ProjectionDelta): Promise<void> {
      if (delta.confirmed.length)
        await trx.raw(
          `INSERT INTO ${s}.orders (order_id, total_cents, confirmed_on)
           SELECT x."orderId", x."totalCents", (x."confirmedAt" AT TIME ZONE 'UTC')::date
           FROM jsonb_to_recordset(?::jsonb) AS x("orderId" uuid, "totalCents" bigint, "confirmedAt" timestamptz)
           ON CONFLICT (order_id) DO UPDATE SET confirmed_on = EXCLUDED.confirmed_on, total_cents = EXCLUDED.total_cents, updated_at = now()`,
          [json(delta.confirmed)],
        );
      if (delta.cancelled.length)
        await trx.raw(
          `INSERT INTO ${s}.orders (order_id, total_cents, cancelled)
           SELECT x."orderId", x."totalCents", true FROM jsonb_to_recordset(?::jsonb) AS x("orderId" uuid, "totalCents" bigint)
           ON CONFLICT (order_id) DO UPDATE SET cancelled = true, updated_at = now()`,
          [json(delta.cancelled)],
        );
      if (delta.lines.length)
        await trx.raw(
          `INSERT INTO ${s}.order_lines (order_id, product_id, quantity, revenue_cents)
           SELECT x."orderId", x."productId", x.quantity, x."revenueCents"
           FROM jsonb_to_recordset(?::jsonb) AS x("orderId" uuid, "productId" uuid, quantity integer, "revenueCents" bigint)
           ON CONFLICT (order_id, product_id) DO NOTHING`,
          [json(delta.lines)],
        );
      if (delta.products.length)
        await trx.raw(
          `INSERT INTO ${s}.products (product_id, name, sequence)
           SELECT x."productId", x.name, x.sequence FROM jsonb_to_recordset(?::jsonb) AS x("productId" uuid, name text, sequence bigint)
           ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, sequence = EXCLUDED.sequence
           WHERE ${s}.products.sequence < EXCLUDED.sequence`,
          [json(delta.products)],
        );
      if (delta.signups.length)
        await trx.raw(
          `INSERT INTO ${s}.signups (user_id, registered_on)
           SELECT x."userId", (x."registeredAt" AT TIME ZONE 'UTC')::date FROM jsonb_to_recordset(?::jsonb) AS x("userId" uuid, "registeredAt" timestamptz)
           ON CONFLICT (user_id) DO NOTHING`,
          [json(delta.signups)],
        );
      if (definition >= 2) await refreshTotals(trx, s, [...delta.confirmed, ...delta.cancelled].map((o) => o.orderId));
    },

    /** One row per day of [from, to], days without sales included, so a chart needs no gap-filling. */
    async salesByDay(db: Knex, from: string, to: string): Promise<DaySales[]> {
      if (definition >= 2) return salesByDayFromTotals(db, s, from, to);
      const { rows } = await db.raw<{ rows: Array<{ date: string; orders: string; revenue_cents: string; signups: string }> }>(
        `SELECT to_char(d.day, 'YYYY-MM-DD') AS date, count(o.order_id) AS orders, coalesce(sum(o.total_cents), 0) AS revenue_cents,
                (SELECT count(*) FROM ${s}.signups s WHERE s.registered_on = d.day::date) AS signups
         FROM generate_series(?::date, ?::date, interval '1 day') AS d(day)
         LEFT JOIN ${s}.orders o ON o.confirmed_on = d.day::date AND ${COUNTED}
         GROUP BY d.day
         ORDER BY d.day`,
        [from, to],
      );
      return rows.map((r) => ({ date: r.date, orders: Number(r.orders), revenueCents: Number(r.revenue_cents), signups: Number(r.signups) }));
    },

    async topProducts(db: Knex, limit: number): Promise<ProductSales[]> {
      if (definition >= 2) return topProductsFromTotals(db, s, limit);
      const { rows } = await db.raw<{ rows: Array<{ product_id: string; name: string | null; quantity: string; revenue_cents: string }> }>(
        `SELECT l.product_id, p.name, sum(l.quantity) AS quantity, sum(l.revenue_cents) AS revenue_cents
         FROM ${s}.order_lines l
         JOIN ${s}.orders o ON o.order_id = l.order_id AND ${COUNTED}
         LEFT JOIN ${s}.products p ON p.product_id = l.product_id
         GROUP BY l.product_id, p.name
         ORDER BY quantity DESC, revenue_cents DESC, l.product_id
         LIMIT ?`,
        [limit],
      );
      return rows.map((r) => ({ productId: r.product_id, name: r.name, quantity: Number(r.quantity), revenueCents: Number(r.revenue_cents) }));
    },
  };
}

export type { DaySales, ProductSales } from './reports';

/** What the use cases get through their callers (domain/ never imports data/ itself). */
export type AnalyticsRepository = ReturnType<typeof analyticsRepository>;
