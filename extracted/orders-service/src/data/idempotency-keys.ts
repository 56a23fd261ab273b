import type { Knex } from '@banyan/db';

const TABLE = 'orders.idempotency_keys';

/** What a checkout under a key came to: still running, an order placed, or a card declined. */
export type KeyState = 'running' | 'placed' | 'declined';

export interface KeyRecord {
  fingerprint: string;
  orderId: string;
  state: KeyState;
  declineReason: string | null;
  /** How long ago it was claimed, by the database's clock. */
  ageMs: number;
}

interface KeyRow {
  fingerprint: string;
  order_id: string;
  state: KeyState;
  decline_reason: string | null;
  age_ms: string;
}

/** The only place with idempotency-key SQL. Keys are per user: another user's same key is another key. */
export const idempotencyKeys = {
  /**
   * Claim `key` for a checkout that will number its order `orderId`, or return what the key
   * already holds. The primary key makes two claims of one key race safely: one inserts, the
   * other reads the winner's row (read again if the winner released it in between).
   */
  async claim(db: Knex, claim: { userId: string; key: string; fingerprint: string; orderId: string }): Promise<KeyRecord | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const inserted = await db(TABLE)
        .insert({ user_id: claim.userId, key: claim.key, fingerprint: claim.fingerprint, order_id: claim.orderId, state: 'running' })
        .onConflict(['user_id', 'key'])
        .ignore()
        .returning('key');
      if (inserted.length > 0) return undefined;
      const row: KeyRow | undefined = await db(TABLE)
        .where({ user_id: claim.userId, key: claim.key })
        .first('fingerprint', 'order_id', 'state', 'decline_reason', db.raw('(extract(epoch FROM now() - created_at) * 1000)::bigint AS age_ms'));
      if (row) return { fingerprint: row.fingerprint, orderId: row.order_id, state: row.state, declineReason: row.decline_reason, ageMs: Number(row.age_ms) };
    }
    throw new Error(`idempotency key of user ${claim.userId} claimed and released five times in a row`);
  },

  /** Record the outcome of the checkout holding the key. */
  async settle(db: Knex, userId: string, key: string, state: Exclude<KeyState, 'running'>, declineReason?: string): Promise<void> {
    await db(TABLE).where({ user_id: userId, key }).update({ state, decline_reason: declineReason ?? null });
  },

  /** Give a key back (the checkout ended before any order counted): the same key may be tried again. */
  async release(db: Knex, userId: string, key: string, orderId: string): Promise<void> {
    await db(TABLE).where({ user_id: userId, key, order_id: orderId }).delete();
  },

  /** Forget keys older than `olderThanMs`; returns how many. */
  async prune(db: Knex, olderThanMs: number): Promise<number> {
    return db(TABLE).where('created_at', '<', db.raw('now() - make_interval(secs => ?)', [olderThanMs / 1000])).delete();
  },
};

export type IdempotencyKeys = typeof idempotencyKeys;
