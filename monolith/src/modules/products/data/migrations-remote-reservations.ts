import type { Migration } from '@banyan/db';

/**
 * A migration is history: the table is named as it was when this ran, products.remote_reservations, never
 * read from the repository's TABLE constant: renaming that constant must not give a fresh database
 * another table than every existing one. A rename takes a new migration.
 */
export const remoteReservationMigrations: Migration[] = [
  {
    name: '003_remote_reservations',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE products.remote_reservations (
          order_id uuid PRIMARY KEY,
          state text NOT NULL CHECK (state IN ('reserving', 'reserved', 'cancelled', 'releasing', 'released')),
          items jsonb NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX remote_reservations_open ON products.remote_reservations (updated_at) WHERE state IN ('reserving', 'releasing');
      `);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE products.remote_reservations`);
    },
  },
];
