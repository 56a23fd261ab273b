import type { Migration } from '@banyan/db';

export const USERS_SCHEMA = 'users';

/**
 * The module's account table, moved (ADR 0300). Its signing keys and throttle counts did not move:
 * both sides read them in one key store, the monolith's users schema, for the length of the
 * migration (docs/adr/0333-users-extraction-keys-and-counts-in-one-store.md).
 */
export const migrations: Migration[] = [
  {
    name: '001_users',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE users.users (
          id uuid PRIMARY KEY,
          -- Emails are stored normalised; the CHECK keeps a raw insert from sneaking in a
          -- differently-cased duplicate past the unique constraint.
          email text NOT NULL CHECK (email = lower(email)),
          name text NOT NULL,
          role text NOT NULL CHECK (role IN ('customer', 'admin')),
          password_hash text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now(),
          CONSTRAINT users_email_unique UNIQUE (email)
        );
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE users.users');
    },
  },
  {
    // The outbox sequence of the user.account_changed event that last changed the account (ADR 0333).
    name: '002_version',
    async up(knex) {
      await knex.raw('ALTER TABLE users.users ADD COLUMN version bigint NOT NULL DEFAULT 0');
    },
    async down(knex) {
      await knex.raw('ALTER TABLE users.users DROP COLUMN version');
    },
  },
];
