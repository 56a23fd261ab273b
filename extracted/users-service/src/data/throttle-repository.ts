import type { Knex } from '@banyan/db';
import type { AttemptCounter } from '../domain/throttle';

const THROTTLE = 'users.throttle';

/**
 * The throttle's counts in PostgreSQL, shared by every instance on the database. `hit` is one
 * statement (an upsert that opens a new window when the last one has ended), so attempts racing
 * on any number of instances are each counted exactly once.
 */
export function throttleRepository(db: Knex): AttemptCounter {
  return {
    async hit(key, windowMs) {
      const { rows } = await db.raw(
        `INSERT INTO ${THROTTLE} AS t (key, hits, window_ends)
         VALUES (?, 1, now() + ?::float8 * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN t.window_ends <= now() THEN 1 ELSE t.hits + 1 END,
           window_ends = CASE WHEN t.window_ends <= now() THEN excluded.window_ends ELSE t.window_ends END
         RETURNING hits, extract(epoch FROM window_ends - now())::float8 * 1000 AS ms_left`,
        [key, windowMs],
      );
      return { hits: rows[0].hits as number, msLeft: Math.max(0, rows[0].ms_left as number) };
    },
    async forget(key) {
      await db(THROTTLE).where({ key }).delete();
    },
    async sweep() {
      // No index on window_ends: this scan runs once per window, an index would cost every hit.
      return db(THROTTLE).where('window_ends', '<', db.fn.now()).delete();
    },
  };
}
