import type { Migration } from '@banyan/db';

export const PRODUCTS_SCHEMA = 'products';

/** Largest stock a product may hold: keeps `stock + delta` inside PostgreSQL's integer. */
export const MAX_STOCK = 1_000_000_000;

export const migrations: Migration[] = [
  {
    name: '001_products',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE products.products (
          id uuid PRIMARY KEY,
          sku text NOT NULL,
          name text NOT NULL,
          description text NOT NULL DEFAULT '',
          price_cents integer NOT NULL CHECK (price_cents >= 0),
          -- The last line of defence against overselling: even a buggy UPDATE cannot go below zero.
          stock integer NOT NULL CHECK (stock >= 0 AND stock <= ${MAX_STOCK}),
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
];
