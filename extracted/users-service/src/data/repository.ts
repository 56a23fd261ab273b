import type { JWK } from 'jose';
import type { Knex } from '@banyan/db';
import type { User } from '../domain/user';

/** A user with the secret only the domain's credential checks may see. */
export interface StoredUser extends User {
  passwordHash: string;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: User['role'];
  password_hash: string;
}

const USERS = 'users.users';
const KEYS = 'users.signing_keys';

const toStored = (row: UserRow): StoredUser => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  passwordHash: row.password_hash,
});

/** The users table, through whichever connection or transaction the use case holds. */
export function usersRepository(db: Knex | Knex.Transaction) {
  return {
    async insert(user: StoredUser): Promise<void> {
      await db(USERS).insert({ id: user.id, email: user.email, name: user.name, role: user.role, password_hash: user.passwordHash });
    },
    async findById(id: string): Promise<StoredUser | undefined> {
      const row = await db<UserRow>(USERS).where({ id }).first();
      return row && toStored(row);
    },
    async findByEmail(email: string): Promise<StoredUser | undefined> {
      const row = await db<UserRow>(USERS).where({ email }).first();
      return row && toStored(row);
    },
    /** Returns the updated user, or undefined when there is no such user. */
    async update(id: string, changes: { name?: string; passwordHash?: string }): Promise<StoredUser | undefined> {
      const [row] = await db<UserRow>(USERS)
        .where({ id })
        .update({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.passwordHash !== undefined ? { password_hash: changes.passwordHash } : {}),
          updated_at: db.fn.now(),
        } as Partial<UserRow>)
        .returning('*');
      return row && toStored(row as UserRow);
    },
  };
}

/** The account as the other side of the two-way sync reports it (ADR 0333). */
export interface ReplicaAccount extends StoredUser {
  version: number;
}

/** Writes made by the users sync and the account events, never by a use case directly. */
export const accountReplica = {
  /** Stamp the version of the event the caller just wrote for this account. */
  async setVersion(trx: Knex.Transaction, id: string, version: number): Promise<void> {
    await trx(USERS).where({ id }).update({ version });
  },
  /**
   * Insert or overwrite the whole account if `version` is newer (or equal, when `winsTie`: both
   * sides numbered concurrent writes alike and must settle on the same one); true if applied.
   */
  async upsertIfNewer(trx: Knex.Transaction, a: ReplicaAccount, winsTie: boolean): Promise<boolean> {
    const { rowCount } = await trx.raw(
      `INSERT INTO ${USERS} AS t (id, email, name, role, password_hash, version)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, role = EXCLUDED.role,
         password_hash = EXCLUDED.password_hash, version = EXCLUDED.version, updated_at = now()
       WHERE t.version < EXCLUDED.version OR (? AND t.version = EXCLUDED.version)`,
      [a.id, a.email, a.name, a.role, a.passwordHash, a.version, winsTie],
    );
    return rowCount > 0;
  },
};

/** True when `err` is the unique-email violation, however the insert raced. */
export const isEmailTaken = (err: unknown): boolean =>
  (err as { code?: string; constraint?: string }).code === '23505' &&
  (err as { constraint?: string }).constraint === 'users_email_unique';

export interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** The key that signs now, with when it stops (its planned retirement) and since when it signs. */
export interface SigningKeyRow extends StoredKey {
  signsFrom: Date;
  retiresAt: Date | null;
}

const toSigning = (row: { kid: string; private_jwk: JWK; public_jwk: JWK; signs_from: Date; retired_at: Date | null }): SigningKeyRow => ({
  kid: row.kid,
  privateJwk: row.private_jwk,
  publicJwk: row.public_jwk,
  signsFrom: row.signs_from,
  retiresAt: row.retired_at,
});

export function signingKeysRepository(db: Knex) {
  return {
    /** The key that signs now (on the database's clock): the newest that has started and not retired. */
    async active(): Promise<SigningKeyRow | undefined> {
      const row = await db(KEYS)
        .where('signs_from', '<=', db.fn.now())
        .andWhere((q) => q.whereNull('retired_at').orWhere('retired_at', '>', db.fn.now()))
        .orderBy('signs_from', 'desc')
        .first();
      return row && toSigning(row);
    },
    /** The key announced to sign next, if a rotation is under way. */
    async announced(): Promise<SigningKeyRow | undefined> {
      const row = await db(KEYS).where('signs_from', '>', db.fn.now()).orderBy('signs_from', 'desc').first();
      return row && toSigning(row);
    },
    /**
     * Announce `next` to sign from `announceMs` from now: the key without a planned retirement
     * (the one signing) is retired at that moment and stays published `tokenTtlMs` longer, until
     * the last token it signed has expired. One transaction, the current key's row locked: two
     * rotations at once make one. Returns the key that will sign next (the one already announced,
     * if a rotation was under way).
     */
    async rotate(next: StoredKey, announceMs: number, tokenTtlMs: number): Promise<SigningKeyRow> {
      return db.transaction(async (trx) => {
        const current = await trx(KEYS).whereNull('retired_at').forUpdate().first();
        const pending = await trx(KEYS).where('signs_from', '>', trx.fn.now()).orderBy('signs_from', 'desc').first();
        if (pending) return toSigning(pending);
        const startsAt = trx.raw('now() + make_interval(secs => ?)', [announceMs / 1000]);
        if (current) {
          await trx(KEYS)
            .where({ kid: current.kid })
            .update({ retired_at: startsAt, published_until: trx.raw('now() + make_interval(secs => ?)', [(announceMs + tokenTtlMs) / 1000]) });
        }
        const [row] = await trx(KEYS)
          .insert({ kid: next.kid, private_jwk: JSON.stringify(next.privateJwk), public_jwk: JSON.stringify(next.publicJwk), signs_from: startsAt })
          .returning(['kid', 'private_jwk', 'public_jwk', 'signs_from', 'retired_at']);
        return toSigning(row);
      });
    },
    /** Delete keys no longer published for longer than `olderThanMs`; returns how many. */
    async forgetUnpublished(olderThanMs: number): Promise<number> {
      return db(KEYS).where('published_until', '<', db.raw('now() - make_interval(secs => ?)', [olderThanMs / 1000])).delete();
    },
    /** Inserts `key` only if no key is active; a losing racer's key is silently dropped. */
    async insertIfNoneActive(key: StoredKey): Promise<void> {
      await db.raw(`INSERT INTO ${KEYS} (kid, private_jwk, public_jwk) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, [
        key.kid,
        JSON.stringify(key.privateJwk),
        JSON.stringify(key.publicJwk),
      ]);
    },
    /** Every public key published now: announced, signing, and retired until its tokens expire; oldest first. */
    async publicKeys(): Promise<JWK[]> {
      const rows = await db(KEYS)
        .where((q) => q.whereNull('published_until').orWhere('published_until', '>', db.fn.now()))
        .select('public_jwk')
        .orderBy('signs_from');
      return rows.map((r: { public_jwk: JWK }) => r.public_jwk);
    },
  };
}
