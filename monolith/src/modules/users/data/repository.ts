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

/** True when `err` is the unique-email violation, however the insert raced. */
export const isEmailTaken = (err: unknown): boolean =>
  (err as { code?: string; constraint?: string }).code === '23505' &&
  (err as { constraint?: string }).constraint === 'users_email_unique';

export interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export function signingKeysRepository(db: Knex) {
  return {
    async active(): Promise<StoredKey | undefined> {
      const row = await db(KEYS).whereNull('retired_at').first();
      return row && { kid: row.kid, privateJwk: row.private_jwk, publicJwk: row.public_jwk };
    },
    /** Inserts `key` only if no key is active; a losing racer's key is silently dropped. */
    async insertIfNoneActive(key: StoredKey): Promise<void> {
      await db.raw(`INSERT INTO ${KEYS} (kid, private_jwk, public_jwk) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, [
        key.kid,
        JSON.stringify(key.privateJwk),
        JSON.stringify(key.publicJwk),
      ]);
    },
    /** Every public key still published (active and retired), oldest first. */
    async publicKeys(): Promise<JWK[]> {
      const rows = await db(KEYS).select('public_jwk').orderBy('created_at');
      return rows.map((r: { public_jwk: JWK }) => r.public_jwk);
    },
  };
}
