import type { Migration } from '@banyan/db';

export const PRODUCTS_SCHEMA = 'products';

export const migrations: Migration[] = [
  {
    name: '001_products',
    // A migration is history: the stock ceiling is written out as MAX_STOCK (domain/product.ts)
    // was when this ran, never read from it. Raising the constant takes a new migration that
    // alters the CHECK; reading it here would silently give a fresh database another table than
    // every existing one.
    async up(knex) {
      await knex.raw(`
        CREATE TABLE products.products (
          id uuid PRIMARY KEY,
          sku text NOT NULL,
          name text NOT NULL,
          description text NOT NULL DEFAULT '',
          price_cents integer NOT NULL CHECK (price_cents >= 0),
          -- The last line of defence against overselling: even a buggy UPDATE cannot go below zero.
          stock integer NOT NULL CHECK (stock >= 0 AND stock <= 1000000000),
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now(),
          CONSTRAINT products_sku_unique UNIQUE (sku)
        );
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE products.products');
    },
  },
  {
    // The row's per-aggregate version: the outbox sequence of the event that last changed it.
    // Two-way sync during extraction compares it with an incoming event's sequence so an older
    // change never overwrites a newer one (docs/adr/0301-two-way-sync-during-extraction.md).
    name: '002_version',
    async up(knex) {
      await knex.raw('ALTER TABLE products.products ADD COLUMN version bigint NOT NULL DEFAULT 0');
    },
    async down(knex) {
      await knex.raw('ALTER TABLE products.products DROP COLUMN version');
    },
  },
];
