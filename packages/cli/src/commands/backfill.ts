import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { backfill, connectDomain } from '@banyan/sync';
import { runAction } from '../admin-client';
import { migrationOption, readMigration, type MigrationOption } from '../declaration';
import { dataSpecOf } from './data-spec';
import { backfillProjection } from './projection';

export function registerBackfill(program: Command): void {
  const command = program
    .command('backfill <domain>')
    .description(
      "copy the monolith's rows of a domain into its service's database, as the declaration's domains.<domain>.data says (resumable; only newer versions overwrite); for a domain declared with a projection, rebuild a new projection version from the event history and let it take over",
    )
    .option('--batch-size <n>', 'rows per batch (one transaction each)', (v) => Number.parseInt(v, 10), 500);
  migrationOption(command).action(
    runAction(async (domain: string, options: { batchSize: number } & MigrationOption) => {
      const migration = readMigration(options);
      const projection = migration.domains[domain]?.projection;
      if (projection) return backfillProjection(projection);
      const spec = dataSpecOf(migration, domain, 'backfill');
      const db = connectDomain(spec);
      // A bar only where a person watches; logs and CI get the final line alone.
      const bar = process.stdout.isTTY ? new SingleBar({ format: ' {table} [{bar}] {value}/{total} rows' }, Presets.shades_classic) : undefined;
      let current: string | undefined;
      try {
        const result = await backfill(spec, db, {
          batchSize: options.batchSize,
          onProgress: (p) => {
            if (!bar) return;
            if (p.table !== current) {
              if (current) bar.stop();
              current = p.table;
              bar.start(p.total, p.done, { table: p.table });
            } else {
              bar.setTotal(p.total);
              bar.update(p.done);
            }
          },
        });
        bar?.stop();
        console.log(`${domain}: ${result.read} rows read, ${result.written} written, ${result.skipped} already current in ${db.targetName}`);
      } finally {
        bar?.stop();
        await db.close();
      }
    }),
  );
}
