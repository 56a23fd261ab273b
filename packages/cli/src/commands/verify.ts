import type { Command } from 'commander';
import { connectDomain, verify } from '@banyan/sync';
import { runAction } from '../admin-client';
import { migrationOption, readMigration, type MigrationOption } from '../declaration';
import { dataSpecOf } from './data-spec';

export function registerVerify(program: Command): void {
  const command = program
    .command('verify <domain>')
    .description("compare the monolith's rows of a domain with its service's, row by row, as the declaration's domains.<domain>.data says (exit 1 on any difference)")
    .option('--max <n>', 'differences to print', (v) => Number.parseInt(v, 10), 50);
  migrationOption(command).action(
    runAction(async (domain: string, options: { max: number } & MigrationOption) => {
      const spec = dataSpecOf(readMigration(options), domain, 'verify');
      const db = connectDomain(spec);
      try {
        const { compared, differences } = await verify(spec, db);
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
