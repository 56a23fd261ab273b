import type { UsersContext } from './context';
import { UsersErrors } from './errors';
import { toUser, type User } from './user';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function getUser(ctx: UsersContext, id: string): Promise<User> {
  // Not a uuid cannot be a user; asking PostgreSQL would fail with a type error instead.
  const stored = UUID.test(id) ? await ctx.users(ctx.knex).findById(id) : undefined;
  if (!stored) throw UsersErrors.notFound();
  return toUser(stored);
}

/** Undefined when no account has this email (compared case-insensitively). */
export async function findUserByEmail(ctx: UsersContext, email: string): Promise<User | undefined> {
  const stored = await ctx.users(ctx.knex).findByEmail(email.trim().toLowerCase());
  return stored && toUser(stored);
}
