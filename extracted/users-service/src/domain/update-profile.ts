import { withTransaction } from '@banyan/db';
import type { UsersContext } from './context';
import { UsersErrors } from './errors';
import { hashPassword } from './passwords';
import { toUser, type User } from './user';

export interface ProfileChanges {
  name?: string;
  password?: string;
}

/**
 * The email is the login and the identity other domains copied (orders' customerEmail), so it
 * is not changeable here. The contract defines no public event for profile changes (no other
 * domain keeps a user's name); user.account_changed carries the change to the other side of the
 * two-way sync (ADR 0333), in the same transaction. Tokens issued before a password change stay valid until
 * they expire (they are stateless); a production system would add a token version claim.
 */
export async function updateProfile(ctx: UsersContext, userId: string, changes: ProfileChanges): Promise<User> {
  const passwordHash = changes.password !== undefined ? await hashPassword(changes.password) : undefined;
  const updated = await withTransaction(ctx.knex, async (trx) => {
    const stored = await ctx.users(trx).update(userId, { name: changes.name, passwordHash });
    if (stored) await ctx.events.changed(trx, stored);
    return stored;
  });
  if (!updated) throw UsersErrors.notFound();
  return toUser(updated);
}
