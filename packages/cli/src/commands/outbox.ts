import type { Command } from 'commander';
import { databaseConnection, loadConfig, postgresEnv, z } from '@banyan/config';
import { createKnex, describe } from '@banyan/db';
import { outboxReport, type OutboxReport } from '@banyan/outbox';
import { CliError, EXIT, runAction } from '../admin-client';
import { declaredDomain, migrationOption, readMigration, shownFile, type MigrationOption } from '../declaration';

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
  const command = program
    .command('outbox')
    .description("Relay lag, backlog, oldest unpublished event and parked events with their last error, in the monolith's outbox or a domain's service's")
    .argument('[domain]', "a declared domain: its service's outbox (default: the monolith's)")
    .option('--database <name>', "the database whose outbox to inspect (default: the declaration's monolith.database, or the domain's service.database)")
    .option('--json', 'print the report as JSON')
    .option('--unpark <id...>', 'retry parked events (their aggregates resume behind them)');
  migrationOption(command).action(
    runAction(async (domain: string | undefined, opts: { database?: string; json?: boolean; unpark?: string[] } & MigrationOption) => {
      const migration = readMigration(opts);
      const side = domain ? declaredDomain(migration, domain).service : migration.monolith;
      const database = opts.database ?? side.database;
      if (!database) {
        const at = domain ? `domains.${domain}.service.database` : 'monolith.database';
        throw new CliError(`no database to inspect: ${shownFile(migration)} declares no ${at}; name one with --database`, EXIT.invalid);
      }
      const env = loadConfig(z.object(postgresEnv));
      const settings = databaseConnection(env, database);
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
    }),
  );
}
