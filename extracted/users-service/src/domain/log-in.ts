import type { UsersContext } from './context';
import { UsersErrors } from './errors';
import { decoyHash, verifyPassword } from './passwords';
import { issueToken } from './tokens';
import { toUser, type User } from './user';

/**
 * `email` is already normalised (the DTO trims and lower-cases it), so every spelling of an
 * address counts against one account; `client` is the caller's address (HTTP: `req.ip`).
 */
export async function logIn(
  ctx: UsersContext,
  credentials: { email: string; password: string },
  client: { address: string | undefined },
): Promise<{ token: string; user: User }> {
  // Before the lookup and the hash: a throttled attempt costs one upsert, and an unknown email
  // is counted and refused exactly like a known one.
  await ctx.throttle.admitLogin(credentials.email, client.address);
  const stored = await ctx.users(ctx.knex).findByEmail(credentials.email);
  const matches = await verifyPassword(credentials.password, stored?.passwordHash ?? (await decoyHash()));
  if (!stored || !matches) throw UsersErrors.invalidCredentials();
  await ctx.throttle.loginSucceeded(credentials.email);
  const user = toUser(stored);
  return { token: await issueToken(ctx.keys, user, ctx.tokenTtlSeconds), user };
}
