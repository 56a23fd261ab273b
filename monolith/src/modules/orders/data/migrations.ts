import type { Migration } from '@banyan/db';

export const ORDERS_SCHEMA = 'orders';

export const migrations: Migration[] = [
  {
    name: '001_orders',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE orders.orders (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL,
          -- Copied from the customer's token so emails never need the users module's tables.
          customer_email text NOT NULL,
          status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'payment_declined', 'payment_failed', 'cancelled')),
          total_cents bigint NOT NULL CHECK (total_cents >= 0),
          payment_id uuid,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX orders_by_user ON orders.orders (user_id, id);
        CREATE TABLE orders.order_items (
          order_id uuid NOT NULL REFERENCES orders.orders (id),
          line smallint NOT NULL,
          product_id uuid NOT NULL,
          quantity integer NOT NULL CHECK (quantity > 0),
          price_cents integer NOT NULL CHECK (price_cents >= 0),
          PRIMARY KEY (order_id, line),
          UNIQUE (order_id, product_id)
        );
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE orders.order_items; DROP TABLE orders.orders');
    },
  },
  {
    // The reconciler's bookmark: set once an order that failed mid-checkout is known to have
    // taken no money. The partial index holds only the orders still to look at.
    name: '002_reconciled_at',
    async up(knex) {
      await knex.raw(`
        ALTER TABLE orders.orders ADD COLUMN reconciled_at timestamptz;
        CREATE INDEX orders_to_reconcile ON orders.orders (updated_at)
          WHERE status IN ('pending', 'payment_failed') AND reconciled_at IS NULL;
      `);
    },
    async down(knex) {
      await knex.raw('DROP INDEX orders.orders_to_reconcile; ALTER TABLE orders.orders DROP COLUMN reconciled_at');
    },
  },
  {
    // Idempotency-Key on POST /api/orders (docs/adr/0313-idempotency-keys-on-checkout.md). The
    // fingerprint is a hash of what the request means, never its body: the body carries a card.
    name: '003_idempotency_keys',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE orders.idempotency_keys (
          user_id uuid NOT NULL,
          key text NOT NULL,
          fingerprint text NOT NULL,
          order_id uuid NOT NULL,
          state text NOT NULL CHECK (state IN ('running', 'placed', 'declined')),
          decline_reason text,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (user_id, key)
        );
        CREATE INDEX idempotency_keys_by_age ON orders.idempotency_keys (created_at);
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE orders.idempotency_keys');
    },
  },
  {
    // Two-way sync while orders is extracted (ADR 0314, as ADR 0301 for products): each row holds
    // the outbox sequence of the event that last changed it, so a late or repeated event never
    // rolls it back. A line gets a one-column key, `<order id>:<line>`, for backfill and verify,
    // which page through a table by one key; lines never change, so their version stays 0.
    name: '004_version',
    async up(knex) {
      await knex.raw(`
        ALTER TABLE orders.orders ADD COLUMN version bigint NOT NULL DEFAULT 0;
        ALTER TABLE orders.order_items ADD COLUMN item_key text, ADD COLUMN version bigint NOT NULL DEFAULT 0;
        UPDATE orders.order_items SET item_key = order_id::text || ':' || line::text;
        ALTER TABLE orders.order_items ALTER COLUMN item_key SET NOT NULL, ADD CONSTRAINT order_items_item_key UNIQUE (item_key);
      `);
    },
    async down(knex) {
      await knex.raw('ALTER TABLE orders.order_items DROP COLUMN item_key, DROP COLUMN version; ALTER TABLE orders.orders DROP COLUMN version');
    },
  },
];
