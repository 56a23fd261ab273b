import type { Command } from 'commander';
import { adminClient, formatTable, runAction } from '../admin-client';
import { declaredDomain, migrationOption, readMigration, type MigrationOption } from '../declaration';

interface Exchange {
  side: string;
  status: number;
  body: unknown;
  requestId: string;
  traceparent: string | null;
}
interface Report {
  domain: string;
  compared: number;
  matched: number;
  mismatched: number;
  errors: number;
  skipped: number;
  matchRate: number | null;
  noise: boolean;
  rules: { ignore: string[]; unordered: string[] };
  mismatches: Array<{ at: string; method: string; path: string; statusMatch: boolean; diff: Array<{ op: string; path: string; value?: unknown }>; primary: Exchange; candidate: Exchange }>;
}

const short = (value: unknown, max = 60) => {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

export function registerShadow(program: Command): void {
  const command = program
    .command('shadow')
    .description("show a shadowed domain's comparison: match rate and the most recent mismatches with their diffs")
    .argument('<domain>', 'a domain of the migration declaration (`banyan status` lists them)')
    .option('--limit <n>', 'mismatches to show', (v) => Number.parseInt(v, 10), 5)
    .option('--json', 'print the full report (both bodies of every kept mismatch) as JSON');
  migrationOption(command).action(
    runAction(async (domain: string, options: { limit: number; json?: boolean } & MigrationOption) => {
      declaredDomain(readMigration(options), domain);
      const report = await adminClient().get<Report>(`/shadow/${encodeURIComponent(domain)}`);
      if (options.json) return void console.log(JSON.stringify(report, null, 2));
      const rate = report.matchRate === null ? 'no comparisons yet' : `${(report.matchRate * 100).toFixed(1)}%`;
      console.log(`${domain}: ${rate} match · ${report.compared} compared, ${report.mismatched} mismatched, ${report.errors} candidate errors, ${report.skipped} skipped`);
      console.log(`rules: ignore [${report.rules.ignore.join(', ')}] · unordered [${report.rules.unordered.join(', ')}] · noise measurement ${report.noise ? 'on' : 'off'}`);
      if (!report.mismatches.length) return;
      console.log(`\nMost recent mismatches (of ${report.mismatches.length} kept):`);
      for (const m of report.mismatches.slice(0, options.limit)) {
        console.log(`\n${m.at}  ${m.method} ${m.path}`);
        console.log(`  ${m.primary.side} ${m.primary.status} (request ${m.primary.requestId}${m.primary.traceparent ? `, trace ${m.primary.traceparent.split('-')[1]}` : ''})`);
        console.log(`  ${m.candidate.side} ${m.candidate.status} (request ${m.candidate.requestId})${m.statusMatch ? '' : '  ← status differs'}`);
        if (m.diff.length) console.log(formatTable(['OP', 'PATH', 'CANDIDATE VALUE'], m.diff.slice(0, 20).map((d) => [d.op, d.path, d.op === 'remove' ? '' : short(d.value)])).replace(/^/gm, '  '));
      }
    }),
  );
}
