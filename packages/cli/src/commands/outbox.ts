import type { Command } from 'commander';
import { databaseConnection, loadConfig, postgresEnv, z } from '@banyan/config';
import { createKnex, describe } from '@banyan/db';
import { outboxReport, type OutboxReport } from '@banyan/outbox';

function print(report: OutboxReport, where: string) {
  const lines = [
    `outbox of ${where}`,
    `  backlog:                ${report.backlog} unpublished${report.retrying ? ` (${report.retrying} retrying)` : ''}`,
    `  oldest unpublished age: ${report.oldestUnpublishedAgeSeconds === null ? '-' : `${report.oldestUnpublishedAgeSeconds.toFixed(1)} s`}`,
    `  lag (write → publish):  ${report.lagMs ? `p50 ${report.lagMs.p50.toFixed(1)} ms, p99 ${report.lagMs.p99.toFixed(1)} ms, max ${report.lagMs.max.toFixed(1)} ms (last 1,000)` : '-'}`,
    `  relays:                 ${report.relays.length ? report.relays.map((r) => `${r.instance} (${r.partitions} partitions)`).join(', ') : 'none running'}`,
    `  parked:                 ${report.parked.length}`,
    ...report.parked.map((p) => `    ${p.id} ${p.type} aggregate ${p.aggregateId}, ${p.attempts} attempts, parked ${p.parkedAt}\n      last error: ${p.lastError ?? '-'}`),
  ];
  console.log(lines.join('\n'));
}

export function registerOutbox(program: Command): void {
  program
    .command('outbox')
    .description('Relay lag, backlog, oldest unpublished event and parked events with their last error')
    .option('--database <name>', 'the database whose outbox to inspect', 'banyan_monolith')
    .option('--json', 'print the report as JSON')
    .option('--unpark <id...>', 'retry parked events (their aggregates resume behind them)')
    .action(async (opts: { database: string; json?: boolean; unpark?: string[] }) => {
      const env = loadConfig(z.object(postgresEnv));
      const settings = databaseConnection(env, opts.database);
      const knex = createKnex(settings, { max: 4 });
      try {
        if (opts.unpark?.length) {
          const n = await knex('outbox.events')
            .whereIn('id', opts.unpark)
            .whereNotNull('parked_at')
            .update({ parked_at: null, attempts: 0, next_attempt_at: null });
          console.log(`unparked ${n} event(s)`);
        }
        const report = await outboxReport(knex);
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else print(report, describe(settings));
      } finally {
        await knex.destroy();
      }
    });
}
