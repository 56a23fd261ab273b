import type { UsersContext } from './context';
import { registerUser, type Registration } from './register-user';
import type { User } from './user';

/**
 * A visitor registering over the API: counted against its client address before the password is
 * hashed, then registered. The seed's `ensureUser` calls `registerUser` directly: it is trusted
 * code, not a client, and no limit applies to it.
 */
export async function signUp(ctx: UsersContext, input: Omit<Registration, 'role'>, client: { address: string | undefined }): Promise<User> {
  await ctx.throttle.admitRegistration(client.address);
  return registerUser(ctx, input);
}
