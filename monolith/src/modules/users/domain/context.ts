import type { Knex } from '@banyan/db';
import type { Outbox } from '@banyan/outbox';
import type { KeyRing } from './signing-keys';
import type { AttemptThrottle } from './throttle';

/** What the users use cases need, built once by the module's factory. */
export interface UsersContext {
  knex: Knex;
  outbox: Outbox;
  keys: KeyRing;
  tokenTtlSeconds: number;
  /** Login and registration limits, checked before any password is hashed. */
  throttle: AttemptThrottle;
}
