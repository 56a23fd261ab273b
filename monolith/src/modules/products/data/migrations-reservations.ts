import type { Migration } from '@banyan/db';

/**
 * A migration is history: the table is named as it was when this ran, products.reservations, never
 * read from the repository's TABLE constant: renaming that constant must not give a fresh database
 * another table than every existing one. A rename takes a new migration.
 */
export const reservationMigrations: Migration[] = [
  {
    name: '004_reservations',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE products.reservations (
          order_id uuid PRIMARY KEY,
          -- reserved: the order holds these lines; released: given back for the order;
          -- cancelled: the order was never recorded, so nothing is (or will be) held for it.
          state text NOT NULL CHECK (state IN ('reserved', 'released', 'cancelled')),
          items jsonb NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        );
      `);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE products.reservations`);
    },
  },
];
