import type { Migration } from '@banyan/db';

export const ramps: Migration = {
  // Ramps (`banyan ramp`, docs/gateway.md#ramp): one row per ramp, its steps, thresholds, where it
  // is and what each step's gates said. A partial unique index keeps one running ramp per routing
  // key; the lease columns let one gateway instance drive it at a time, and another take over when
  // the lease runs out (a crashed or stopped driver). verify_runs keeps the last verifications of
  // each domain, read by the preflight of a switch. route_audit gains a note: a forced switch and
  // a ramp's rollback say why, with the figures that decided it.
  name: '0005_ramps',
  async up(knex) {
    await knex.raw(`
          CREATE TABLE gateway.ramps (
            id bigserial PRIMARY KEY,
            key text NOT NULL,
            steps jsonb NOT NULL,
            hold_ms integer NOT NULL,
            thresholds jsonb NOT NULL,
            status text NOT NULL CHECK (status IN ('running','completed','rolled-back','aborted')),
            step_index integer NOT NULL DEFAULT 0,
            step_started_at timestamptz,
            from_row jsonb NOT NULL,
            last_good jsonb,
            verdicts jsonb NOT NULL DEFAULT '[]',
            reason text,
            actor text NOT NULL,
            lease_owner text,
            lease_until timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
          )`);
    await knex.raw(`CREATE UNIQUE INDEX ramps_one_running ON gateway.ramps (key) WHERE status = 'running'`);
    await knex.raw(`
          CREATE TABLE gateway.verify_runs (
            id bigserial PRIMARY KEY,
            domain text NOT NULL,
            started_at timestamptz NOT NULL,
            finished_at timestamptz NOT NULL,
            compared integer NOT NULL,
            differences integer NOT NULL,
            error text,
            recorded_by text NOT NULL
          )`);
    await knex.raw(`CREATE INDEX verify_runs_latest ON gateway.verify_runs (domain, finished_at DESC)`);
    await knex.raw(`ALTER TABLE gateway.route_audit ADD COLUMN note text`);
  },
};
