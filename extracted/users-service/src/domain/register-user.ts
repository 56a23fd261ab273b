import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '@banyan/db';
import { userRegistered } from '../events/user-registered';
import type { UsersContext } from './context';
import { UsersErrors } from './errors';
import { hashPassword } from './passwords';
import type { Role, User } from './user';

export interface Registration {
  /** Already normalised (see `emailField`). */
  email: string;
  password: string;
  name: string;
  role?: Role;
}

/** Creates the user with its `user.registered` and `user.account_changed` events in one transaction. */
export async function registerUser(ctx: UsersContext, input: Registration): Promise<User> {
  // Hash before opening the transaction: no connection is held during the slow part.
  const passwordHash = await hashPassword(input.password);
  const user: User = { id: uuidv7(), email: input.email, name: input.name, role: input.role ?? 'customer' };
  try {
    await withTransaction(ctx.knex, async (trx) => {
      await ctx.users(trx).insert({ ...user, passwordHash });
      await ctx.outbox.add(trx, userRegistered(user));
      await ctx.events.changed(trx, { ...user, passwordHash });
    });
  } catch (err) {
    // The unique index decides, so two concurrent registrations cannot both win.
    if (ctx.isEmailTaken(err)) throw UsersErrors.emailTaken();
    throw err;
  }
  return user;
}
