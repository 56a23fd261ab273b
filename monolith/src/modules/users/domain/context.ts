import type { Knex } from '@banyan/db';
import type { Outbox } from '@banyan/outbox';
import type { KeyRing } from './signing-keys';

/** What the users use cases need, built once by the module's factory. */
export interface UsersContext {
  knex: Knex;
  outbox: Outbox;
  keys: KeyRing;
  tokenTtlSeconds: number;
}
