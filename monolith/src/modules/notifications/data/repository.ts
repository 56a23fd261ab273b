import type { Knex } from '@banyan/db';

const TABLE = 'notifications.notifications';

export type NotificationStatus = 'pending' | 'sent' | 'failed';

export interface NotificationRow {
  id: string;
  source_event_id: string;
  user_id: string;
  order_id: string | null;
  channel: 'email';
  recipient: string;
  subject: string;
  body: string;
  status: NotificationStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  claimed_until: Date | null;
  created_at: Date;
  sent_at: Date | null;
  version: number;
}

export type NewNotification = Pick<NotificationRow, 'id' | 'source_event_id' | 'user_id' | 'order_id' | 'channel' | 'recipient' | 'subject' | 'body'>;

/** A row as the other side (monolith or service) last published it. */
export type SyncedNotification = NewNotification & Pick<NotificationRow, 'status' | 'created_at' | 'sent_at' | 'version'>;

/** `db` is a transaction when the caller writes state with it, the pool for reads. */
export const notificationsRepository = {
  /**
   * A new row is born claimed for `leaseMs` by the consumer that records it: that consumer sends
   * it once its transaction commits (in the event's trace), and the sweep takes it only if the
   * consumer died before sending, once the lease has run out.
   */
  async insert(trx: Knex.Transaction, row: NewNotification, leaseMs: number): Promise<NotificationRow | undefined> {
    const [inserted] = await trx(TABLE)
      .insert({ ...row, status: 'pending', claimed_until: trx.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]) })
      .onConflict('source_event_id')
      .ignore()
      .returning('*');
    return inserted;
  },

  /** The user's notifications, newest first, after the cursor's id. */
  async listByUser(db: Knex, userId: string, limit: number, afterId?: string): Promise<NotificationRow[]> {
    return db(TABLE)
      .where({ user_id: userId })
      .modify((q) => (afterId ? q.where('id', '<', afterId) : q))
      .orderBy('id', 'desc')
      .limit(limit);
  },

  /**
   * Lease up to `limit` due notifications. SKIP LOCKED
   * and the lease together let several senders run without waiting on, or doubling, each other.
   */
  async claimDue(db: Knex, limit: number, leaseMs: number, excludeIds: string[] = []): Promise<NotificationRow[]> {
    const { rows } = await db.raw<{ rows: NotificationRow[] }>(
      `UPDATE ${TABLE} SET claimed_until = now() + make_interval(secs => ?)
       WHERE id IN (
         SELECT id FROM ${TABLE}
         WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
           AND id <> ALL(?::uuid[])
         ORDER BY next_attempt_at
         LIMIT ?
         FOR UPDATE SKIP LOCKED
       )
       RETURNING *`,
      [leaseMs / 1000, excludeIds, limit],
    );
    return rows;
  },

  /** Give back leases not used (a sender stopping mid-batch), so the next sender need not wait them out. */
  async releaseClaims(db: Knex, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await db(TABLE).whereIn('id', ids).where({ status: 'pending' }).update({ claimed_until: null });
  },

  /** Pending → sent. Returns undefined when another sender marked it first. */
  async markSent(trx: Knex.Transaction, id: string): Promise<NotificationRow | undefined> {
    const [row] = await trx(TABLE)
      .where({ id, status: 'pending' })
      .update({
        status: 'sent',
        sent_at: trx.fn.now(),
        attempts: trx.raw('attempts + 1'),
        last_error: null,
        claimed_until: null,
        version: trx.raw('version + 1'),
      })
      .returning('*');
    return row;
  },

  /**
   * Write the other side's copy of a row unless ours is as new or newer. Returns whether it was
   * written. A copy is only ever `sent`, so our sender never picks it up.
   */
  async applySynced(trx: Knex.Transaction, row: SyncedNotification): Promise<boolean> {
    const { rows } = await trx.raw<{ rows: unknown[] }>(
      `INSERT INTO ${TABLE} (id, source_event_id, user_id, order_id, channel, recipient, subject, body, status, created_at, sent_at, version)
       VALUES (:id, :source_event_id, :user_id, :order_id, :channel, :recipient, :subject, :body, :status, :created_at, :sent_at, :version)
       ON CONFLICT (id) DO UPDATE SET
         status = EXCLUDED.status, sent_at = EXCLUDED.sent_at, version = EXCLUDED.version,
         claimed_until = NULL, last_error = NULL
       WHERE ${TABLE}.version < EXCLUDED.version
       RETURNING id`,
      row,
    );
    return rows.length > 0;
  },

  /** Another row (another id) recorded for the same request, i.e. the request was handled on both sides. */
  async findOtherForSourceEvent(db: Knex, sourceEventId: string, id: string): Promise<NotificationRow | undefined> {
    return db(TABLE).where({ source_event_id: sourceEventId }).whereNot({ id }).first();
  },

  /** Count the failed attempt; give up (status `failed`) at `maxAttempts`, else retry after `retryAfterMs`. */
  async recordFailure(db: Knex, id: string, error: string, maxAttempts: number, retryAfterMs: number): Promise<NotificationRow | undefined> {
    const [row] = await db(TABLE)
      .where({ id, status: 'pending' })
      .update({
        attempts: db.raw('attempts + 1'),
        last_error: error.slice(0, 1000),
        status: db.raw(`CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END`, [maxAttempts]),
        next_attempt_at: db.raw('now() + make_interval(secs => ?)', [retryAfterMs / 1000]),
        claimed_until: null,
      })
      .returning('*');
    return row;
  },
};

/** What the use cases get through their callers (domain/ never imports data/ itself). */
export type NotificationsRepository = typeof notificationsRepository;
