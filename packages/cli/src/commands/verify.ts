import type { Command } from 'commander';
import { connectDomain, loadSyncSpec, verify } from '@banyan/sync';

export function registerVerify(program: Command): void {
  program
    .command('verify <domain>')
    .description("compare the monolith's rows of a domain with its service's, row by row (exit 1 on any difference)")
    .option('--max <n>', 'differences to print', (v) => Number.parseInt(v, 10), 50)
    .action(async (domain: string, options: { max: number }) => {
      const spec = loadSyncSpec(domain);
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
    });
}
