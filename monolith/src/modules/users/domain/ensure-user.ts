import { z } from 'zod';
import { withTransaction } from '@banyan/db';
import { isAppError } from '@banyan/errors';
import { parse } from '@banyan/http';
import type { UsersContext } from './context';
import { registerUser } from './register-user';
import { hashPassword, verifyPassword } from './passwords';
import { emailField, nameField, passwordField, toUser, type User } from './user';

const ensureInput = z.object({
  email: emailField,
  password: passwordField,
  name: nameField,
  role: z.enum(['customer', 'admin']),
});

export type EnsureUserInput = z.input<typeof ensureInput>;

/**
 * Idempotent creation for the seed (and test harnesses). An existing user keeps its name and
 * role, but gets `password` when it differs: that is how the seed "resets the admin password"
 * to BANYAN_ADMIN_PASSWORD on every run, so the printed password always works.
 */
export async function ensureUser(ctx: UsersContext, raw: EnsureUserInput): Promise<{ user: User; created: boolean }> {
  const input = parse(ensureInput, raw);
  const existing = await ctx.users(ctx.knex).findByEmail(input.email);
  if (!existing) {
    try {
      return { user: await registerUser(ctx, input), created: true };
    } catch (err) {
      // Lost a race with another creator: fall through to the existing user.
      if (!isAppError(err) || err.code !== 'USERS.EMAIL_TAKEN') throw err;
    }
  }
  const stored = existing ?? (await ctx.users(ctx.knex).findByEmail(input.email));
  if (!stored) throw new Error(`user ${input.email} vanished while being ensured`);
  if (!(await verifyPassword(input.password, stored.passwordHash))) {
    const passwordHash = await hashPassword(input.password);
    await withTransaction(ctx.knex, async (trx) => {
      const updated = await ctx.users(trx).update(stored.id, { passwordHash });
      if (updated) await ctx.events.changed(trx, updated);
    });
  }
  return { user: toUser(stored), created: false };
}
