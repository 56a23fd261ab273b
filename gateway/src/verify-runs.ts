import type { Knex } from '@banyan/db';
import type { Domain } from './domains';

/** One verification of a domain's two databases, as the preflight of a switch reads it. */
export interface VerifyRecord {
  domain: Domain;
  startedAt: string;
  finishedAt: string;
  compared: number;
  differences: number;
  /** Set when the run could not compare (a database missing or unreachable). */
  error?: string;
  /** Who ran it: the dashboard, or the CLI's `banyan verify` through the admin API. */
  recordedBy: string;
}

/** The last verifications per domain in the gateway's database, where every instance's preflight reads them. */
export function createVerifyRuns(knex: Knex) {
  return {
    async record(run: VerifyRecord): Promise<void> {
      await knex('gateway.verify_runs').insert({
        domain: run.domain,
        started_at: run.startedAt,
        finished_at: run.finishedAt,
        compared: run.compared,
        differences: run.differences,
        error: run.error ?? null,
        recorded_by: run.recordedBy,
      });
    },
    async latest(domain: Domain): Promise<VerifyRecord | undefined> {
      const row = await knex('gateway.verify_runs').where({ domain }).orderBy('finished_at', 'desc').first();
      if (!row) return undefined;
      return {
        domain: row.domain,
        startedAt: new Date(row.started_at).toISOString(),
        finishedAt: new Date(row.finished_at).toISOString(),
        compared: row.compared,
        differences: row.differences,
        ...(row.error ? { error: row.error } : {}),
        recordedBy: row.recorded_by,
      };
    },
  };
}

export type VerifyRuns = ReturnType<typeof createVerifyRuns>;
