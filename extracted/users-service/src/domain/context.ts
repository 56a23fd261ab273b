import type { Knex } from '@banyan/db';
import type { Outbox } from '@banyan/outbox';
import type { isEmailTaken, usersRepository } from '../data/repository';
import type { AccountEvents } from '../events/account-changed';
import type { KeyRing } from './signing-keys';
import type { AttemptThrottle } from './throttle';

/** What the users use cases need, built once by the module's factory. */
export interface UsersContext {
  knex: Knex;
  /** The module's account table (domain/ never imports data/ itself: the inner-module rule). */
  users: typeof usersRepository;
  /** Whether a write failed on the unique email. */
  isEmailTaken: typeof isEmailTaken;
  outbox: Outbox;
  /** user.account_changed, the two-way sync's event, written in the change's transaction. */
  events: AccountEvents;
  keys: KeyRing;
  tokenTtlSeconds: number;
  /** Login and registration limits, checked before any password is hashed. */
  throttle: AttemptThrottle;
}
