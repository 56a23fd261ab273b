import type { Migration } from '@banyan/db';

export const keys: Migration = {
  // Keys every instance must share, made by the first one to ask (the read-your-writes
  // cookie's HMAC key): nothing to configure, and never derived from a secret a client
  // could then guess offline from the values it is given.
  name: '0003_keys',
  async up(knex) {
    await knex.raw(`CREATE TABLE gateway.keys (name text PRIMARY KEY, key bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  },
};
