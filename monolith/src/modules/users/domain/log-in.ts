import { usersRepository } from '../data/repository';
import type { UsersContext } from './context';
import { UsersErrors } from './errors';
import { decoyHash, verifyPassword } from './passwords';
import { issueToken } from './tokens';
import { toUser, type User } from './user';

export async function logIn(ctx: UsersContext, credentials: { email: string; password: string }): Promise<{ token: string; user: User }> {
  const stored = await usersRepository(ctx.knex).findByEmail(credentials.email);
  const matches = await verifyPassword(credentials.password, stored?.passwordHash ?? (await decoyHash()));
  if (!stored || !matches) throw UsersErrors.invalidCredentials();
  const user = toUser(stored);
  return { token: await issueToken(ctx.keys, user, ctx.tokenTtlSeconds), user };
}
