import type { Migration, SchemaOwner } from '@banyan/db';

export const ANALYTICS_SCHEMA = 'analytics';

/**
 * Read models built only from events. Events of one order (or product) reach us through
 * different queues, so in any order: every row is written by commutative upserts, and a row can
 * be started by whichever event comes first.
 */
const migrations: Migration[] = [
  {
    name: '001_analytics',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE analytics.orders (
          order_id uuid PRIMARY KEY,
          total_cents bigint NOT NULL,
          -- Set by order.confirmed only: the UTC day the sale is counted on.
          confirmed_on date,
          -- Set by order.cancelled, even when it arrives before order.confirmed.
          cancelled boolean NOT NULL DEFAULT false,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        -- A sale counts when it was confirmed and not cancelled: the queries' one predicate.
        CREATE INDEX orders_counted_by_day ON analytics.orders (confirmed_on) WHERE confirmed_on IS NOT NULL AND NOT cancelled;

        CREATE TABLE analytics.order_lines (
          order_id uuid NOT NULL,
          product_id uuid NOT NULL,
          quantity integer NOT NULL,
          revenue_cents bigint NOT NULL,
          PRIMARY KEY (order_id, product_id)
        );
        CREATE INDEX order_lines_by_product ON analytics.order_lines (product_id);

        CREATE TABLE analytics.products (
          product_id uuid PRIMARY KEY,
          name text NOT NULL,
          -- The product's event sequence: an older event (product.created arriving after
          -- product.updated) never overwrites a newer name.
          sequence bigint NOT NULL
        );
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE analytics.products; DROP TABLE analytics.order_lines; DROP TABLE analytics.orders');
    },
  },
  {
    name: '002_signups',
    async up(knex) {
      // New customers per day, from user.registered: every event the users domain publishes
      // has a consumer, so none of them is unroutable at the broker.
      await knex.raw(`
        CREATE TABLE analytics.signups (
          user_id uuid PRIMARY KEY,
          registered_on date NOT NULL
        );
        CREATE INDEX signups_by_day ON analytics.signups (registered_on);
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE analytics.signups');
    },
  },
];

export const analyticsSchema: SchemaOwner = { schema: ANALYTICS_SCHEMA, migrations };
