import type { Migration } from '@banyan/db';

export const instances: Migration = {
  // The gateway instances sharing this table, each reporting which routing version it routes
  // by and which domains' writes it still has in flight to the side a switch moved them from,
  // so a switch's fence on one instance can wait for the writes another sent (ADR 0303).
  // Unlogged: it is rebuilt by the heartbeats within a second after a crash.
  name: '0002_instances',
  async up(knex) {
    await knex.raw(`
          CREATE UNLOGGED TABLE gateway.instances (
            id text PRIMARY KEY,
            table_version bigint NOT NULL,
            writing_old text[] NOT NULL DEFAULT '{}',
            seen_at timestamptz NOT NULL DEFAULT now()
          )`);
  },
};
