import type { Knex } from '@banyan/db';
import type { SyncRow, TableSyncSpec } from '@banyan/sync';

const TABLE = 'notifications.notifications';

/**
 * Only settled notifications travel (`sent`, or `failed` once the sender gave up). A `pending`
 * row belongs to the side that recorded it, whose sender will mail it: copied, it would be
 * mailed twice. The sender's bookkeeping (attempts, lease, next attempt, last error) stays too.
 * Timestamps are compared and copied at millisecond precision, the precision notification.sent
 * carries them at when the two sides keep each other current.
 */
function settledRows(db: Knex, _side: 'source' | 'target', afterKey: string | null, limit: number): Promise<SyncRow[]> {
  return db(TABLE)
    .whereNot({ status: 'pending' })
    .modify((q) => (afterKey === null ? q : q.where('id', '>', afterKey)))
    .orderBy('id')
    .limit(limit)
    .select(
      'id',
      'source_event_id',
      'user_id',
      'order_id',
      'channel',
      'recipient',
      'subject',
      'body',
      'status',
      db.raw(`date_trunc('milliseconds', created_at) AS created_at`),
      db.raw(`date_trunc('milliseconds', sent_at) AS sent_at`),
      'version',
    );
}

/** Notifications moved with its schema: the same table on both sides. */
export const notificationsTables: TableSyncSpec[] = [
  {
    source: TABLE,
    target: TABLE,
    key: 'id',
    columns: ['id', 'source_event_id', 'user_id', 'order_id', 'channel', 'recipient', 'subject', 'body', 'status', 'created_at', 'sent_at'],
    version: 'version',
    aggregateType: 'notifications',
    batch: settledRows,
  },
];
