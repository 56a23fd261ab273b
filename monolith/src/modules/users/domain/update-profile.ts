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
 * is not changeable here. No event: the contract defines none for profile changes, and no
 * other domain keeps a user's name. Tokens issued before a password change stay valid until
 * they expire (they are stateless); a production system would add a token version claim.
 */
export async function updateProfile(ctx: UsersContext, userId: string, changes: ProfileChanges): Promise<User> {
  const passwordHash = changes.password !== undefined ? await hashPassword(changes.password) : undefined;
  const updated = await ctx.users(ctx.knex).update(userId, { name: changes.name, passwordHash });
  if (!updated) throw UsersErrors.notFound();
  return toUser(updated);
}
