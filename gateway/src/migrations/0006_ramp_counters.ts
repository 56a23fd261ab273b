import type { Migration } from '@banyan/db';

export const rampCounters: Migration = {
  // Fleet-wide gates (ADR 0214, amended): every gateway instance reports, each tick, its own
  // counters for each running ramp's routing key; the driver sums them, so a ramp is judged on all
  // the traffic the fleet routed, not the driver's share. `base` is the instance's counters when it
  // first saw the step, `latest` its newest: their difference is what it routed during the step.
  // A crashed instance's row stays, since what it routed before it died happened in the step.
  name: '0006_ramp_counters',
  async up(knex) {
    await knex.raw(`
          CREATE TABLE gateway.ramp_counters (
            ramp_id bigint NOT NULL REFERENCES gateway.ramps (id) ON DELETE CASCADE,
            instance_id text NOT NULL,
            step_index integer NOT NULL,
            base jsonb NOT NULL,
            latest jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (ramp_id, instance_id)
          )`);
  },
};
