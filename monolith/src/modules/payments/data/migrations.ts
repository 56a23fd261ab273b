import type { Migration } from '@banyan/db';

export const PAYMENTS_SCHEMA = 'payments';

export const migrations: Migration[] = [
  {
    name: '001_payments',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE payments.payments (
          id uuid PRIMARY KEY,
          -- One payment per order: this index is what makes charge idempotent by order id.
          order_id uuid NOT NULL CONSTRAINT payments_order_unique UNIQUE,
          user_id uuid NOT NULL,
          amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
          status text NOT NULL CHECK (status IN ('pending', 'captured', 'declined', 'refunded')),
          decline_reason text,
          processor_reference text,
          -- Never the full card number: only what a receipt shows.
          card_last4 text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX payments_user ON payments.payments (user_id);
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE payments.payments');
    },
  },
  {
    // Two-way sync with the extracted payments service: each row remembers the outbox sequence
    // of the event that last changed it, so a replayed or late event never rolls it back.
    name: '002_version',
    async up(knex) {
      await knex.raw('ALTER TABLE payments.payments ADD COLUMN version bigint NOT NULL DEFAULT 0');
    },
    async down(knex) {
      await knex.raw('ALTER TABLE payments.payments DROP COLUMN version');
    },
  },
];
