import type { Migration, SchemaOwner } from '@banyan/db';

export const NOTIFICATIONS_SCHEMA = 'notifications';

const migrations: Migration[] = [
  {
    name: '001_notifications',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE notifications.notifications (
          -- uuid v7: time-ordered, so "newest first" is "id descending" and the id alone is the cursor.
          id uuid PRIMARY KEY,
          -- The event that asked for it. The inbox already applies each event once; this is the
          -- second lock on the door, should the same event ever reach us under another consumer name.
          source_event_id uuid NOT NULL UNIQUE,
          user_id uuid NOT NULL,
          order_id uuid,
          channel text NOT NULL CHECK (channel IN ('email')),
          recipient text NOT NULL,
          subject text NOT NULL,
          body text NOT NULL,
          status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          next_attempt_at timestamptz NOT NULL DEFAULT now(),
          -- A sender's lease: another sender (another process, or this one's sweep) skips the row
          -- until it expires, so a notification is not sent twice in parallel.
          claimed_until timestamptz,
          created_at timestamptz NOT NULL DEFAULT now(),
          sent_at timestamptz
        );
        CREATE INDEX notifications_by_user ON notifications.notifications (user_id, id DESC);
        CREATE INDEX notifications_due ON notifications.notifications (next_attempt_at) WHERE status = 'pending';
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE notifications.notifications');
    },
  },
  {
    // Two-way sync with the extracted service: a row's version is the sequence of the last event
    // written about it, on whichever side wrote it, so an older copy never overwrites a newer one.
    // 0 is a row that has had no event yet (pending on the side that recorded it).
    name: '002_sync_version',
    async up(knex) {
      // A row already sent has had exactly one event, its notification.sent at sequence 1.
      await knex.raw(`
        ALTER TABLE notifications.notifications ADD COLUMN version integer NOT NULL DEFAULT 0;
        UPDATE notifications.notifications SET version = 1 WHERE status = 'sent';
      `);
    },
    async down(knex) {
      await knex.raw('ALTER TABLE notifications.notifications DROP COLUMN version');
    },
  },
];

export const notificationsSchema: SchemaOwner = { schema: NOTIFICATIONS_SCHEMA, migrations };
