import type { Command } from 'commander';
import { connectDomain, verify } from '@banyan/sync';
import { CliError, EXIT, runAction } from '../admin-client';
import { migrationOption, readMigration, type MigrationOption } from '../declaration';
import { dataSpecOf } from './data-spec';
import { verifyProjection } from './projection';
import { reportVerifyToGateway } from './verify-record';

const isoDay = (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new CliError(`"${v}" is not a date (YYYY-MM-DD)`, EXIT.invalid);
  return v;
};

export function registerVerify(program: Command): void {
  const command = program
    .command('verify <domain>')
    .description("compare the monolith's rows of a domain with its service's, row by row, as the declaration's domains.<domain>.data says; for a projection domain, the declared figures over --from..--to (exit 1 on any difference)")
    .option('--max <n>', 'differences to print', (v) => Number.parseInt(v, 10), 50)
    .option('--from <date>', 'a projection domain: first day compared (default 30 days before --to)')
    .option('--to <date>', 'a projection domain: last day compared (default today, UTC)');
  migrationOption(command).action(
    runAction(async (domain: string, options: { max: number; from?: string; to?: string } & MigrationOption) => {
      const migration = readMigration(options);
      const projection = migration.domains[domain]?.projection;
      if (projection) {
        const to = isoDay(options.to ?? new Date().toISOString().slice(0, 10));
        const from = options.from ? isoDay(options.from) : new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
        return verifyProjection(projection, { from, to }, options.max);
      }
      const spec = dataSpecOf(migration, domain, 'verify');
      const db = connectDomain(spec);
      const startedAt = new Date();
      try {
        const { compared, differences } = await verify(spec, db);
        await reportVerifyToGateway(domain, { startedAt, compared, differences: differences.length });
        for (const d of differences.slice(0, options.max)) {
          const detail = d.columns ? ' ' + Object.entries(d.columns).map(([c, [a, b]]) => `${c}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`).join(', ') : '';
          console.log(`${d.table} ${d.key}: ${d.kind}${detail}`);
        }
        if (differences.length > options.max) console.log(`… and ${differences.length - options.max} more`);
        console.log(`${domain}: ${compared} rows compared, ${differences.length} difference${differences.length === 1 ? '' : 's'} (${db.sourceName} vs ${db.targetName})`);
        if (differences.length) process.exitCode = 1;
      } finally {
        await db.close();
      }
    }),
  );
}
