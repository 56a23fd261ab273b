import { quoteIdent, type Knex } from '@banyan/db';

/** The schema of the versions table; each version's tables are in `analytics_v<n>`. */
export const ANALYTICS_SCHEMA = 'analytics';

/** The definitions of the read models this code can build and read (ADR 0341); new versions get the newest. */
export type Definition = 1 | 2;
export const NEWEST_DEFINITION: Definition = 2;

/**
 * One version's read models: the module's tables (monolith analytics migrations 001 and 002),
 * in the version's own schema, plus the ids of the events it applied. Definition 2 adds the
 * totals per day and per product, kept current with each batch, which the reports then read
 * instead of aggregating every order per request. Created on the version's first start; a new
 * definition is a new version, rebuilt from the history beside the live one.
 */
export async function createProjectionTables(knex: Knex, schema: string, definition: Definition): Promise<void> {
  const s = quoteIdent(schema);
  await knex.raw(`
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.orders (
      order_id uuid PRIMARY KEY,
      total_cents bigint NOT NULL,
      confirmed_on date,
      cancelled boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS orders_counted_by_day ON ${s}.orders (confirmed_on) WHERE confirmed_on IS NOT NULL AND NOT cancelled;
    CREATE TABLE IF NOT EXISTS ${s}.order_lines (
      order_id uuid NOT NULL,
      product_id uuid NOT NULL,
      quantity integer NOT NULL,
      revenue_cents bigint NOT NULL,
      PRIMARY KEY (order_id, product_id)
    );
    CREATE INDEX IF NOT EXISTS order_lines_by_product ON ${s}.order_lines (product_id);
    CREATE TABLE IF NOT EXISTS ${s}.products (product_id uuid PRIMARY KEY, name text NOT NULL, sequence bigint NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.signups (user_id uuid PRIMARY KEY, registered_on date NOT NULL);
    CREATE INDEX IF NOT EXISTS signups_by_day ON ${s}.signups (registered_on);
    -- The relay is at-least-once: the history can hold an event twice (a re-sent batch).
    CREATE TABLE IF NOT EXISTS ${s}.applied_events (event_id uuid PRIMARY KEY);
  `);
  if (definition >= 2)
    await knex.raw(`
      CREATE TABLE IF NOT EXISTS ${s}.daily_sales (day date PRIMARY KEY, orders integer NOT NULL, revenue_cents bigint NOT NULL);
      CREATE TABLE IF NOT EXISTS ${s}.product_sales (product_id uuid PRIMARY KEY, quantity bigint NOT NULL, revenue_cents bigint NOT NULL);
    `);
}

export async function dropProjectionTables(knex: Knex, schema: string): Promise<void> {
  await knex.raw(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
}
