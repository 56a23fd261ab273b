import type { Migration } from '@banyan/db';

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
        CREATE TABLE users.signing_keys (
          kid text PRIMARY KEY,
          private_jwk jsonb NOT NULL,
          public_jwk jsonb NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          -- Set when a key is rotated out; its public half stays published so tokens it signed
          -- keep verifying until they expire.
          retired_at timestamptz
        );
        -- At most one active key: two processes racing to create the first key both
        -- INSERT ... ON CONFLICT DO NOTHING, and both then read the single winner.
        CREATE UNIQUE INDEX signing_keys_one_active ON users.signing_keys ((true)) WHERE retired_at IS NULL;
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE users.signing_keys; DROP TABLE users.users');
    },
  },
  {
    name: '002_throttle',
    async up(knex) {
      await knex.raw(`
        -- Login and registration attempts per account or client address, in fixed windows (ADR 0331).
        -- UNLOGGED: no WAL for the write every login makes; a crash or a failover empties the
        -- table, which forgives at most one window of attempts.
        CREATE UNLOGGED TABLE users.throttle (
          -- '<scope>:<sha-256 of the email or address>': fixed length, and no email kept in clear.
          key text PRIMARY KEY,
          hits integer NOT NULL,
          -- On the database's clock, so every instance agrees when a window ends.
          window_ends timestamptz NOT NULL
        );
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE users.throttle');
    },
  },
  {
    // Key rotation (docs/adr/0332-signing-key-rotation.md): a key is published before it signs
    // (announced) and after it stops (until its last tokens expire). The one-active index keeps
    // its meaning: at most one key without a planned retirement.
    name: '003_key_rotation',
    async up(knex) {
      await knex.raw(`
        ALTER TABLE users.signing_keys
          ADD COLUMN signs_from timestamptz NOT NULL DEFAULT now(),
          ADD COLUMN published_until timestamptz;
        UPDATE users.signing_keys SET signs_from = created_at;
      `);
    },
    async down(knex) {
      await knex.raw('ALTER TABLE users.signing_keys DROP COLUMN signs_from, DROP COLUMN published_until');
    },
  },
  {
    // Two-way sync with the users service (ADR 0333): the outbox sequence of the
    // user.account_changed event that last changed the account, so either side can tell which of
    // two changes is newer. 0: written before the sync existed (a backfill copies it as is).
    name: '004_version',
    async up(knex) {
      await knex.raw('ALTER TABLE users.users ADD COLUMN version bigint NOT NULL DEFAULT 0');
    },
    async down(knex) {
      await knex.raw('ALTER TABLE users.users DROP COLUMN version');
    },
  },
];
