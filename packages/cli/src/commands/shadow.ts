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
  /** One report per declared route rule: a request a rule matches is compared under the rule, not the domain. */
  routeRules?: Array<Omit<Report, 'routeRules'> & { rule: string }>;
}

const summary = (r: Omit<Report, 'routeRules'>) =>
  `${r.matchRate === null ? 'no comparisons yet' : `${(r.matchRate * 100).toFixed(1)}%`} match · ${r.compared} compared, ${r.mismatched} mismatched, ${r.errors} candidate errors, ${r.skipped} skipped`;

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
      console.log(`${domain}: ${summary(report)}`);
      // Without these lines a domain whose reads all match a rule would show nothing compared.
      for (const r of report.routeRules ?? []) console.log(`  rule ${r.rule}: ${summary(r)}`);
      console.log(`rules: ignore [${report.rules.ignore.join(', ')}] · unordered [${report.rules.unordered.join(', ')}] · noise measurement ${report.noise ? 'on' : 'off'}`);
      const mismatches = [...report.mismatches, ...(report.routeRules ?? []).flatMap((r) => r.mismatches)].sort((a, b) => b.at.localeCompare(a.at));
      if (!mismatches.length) return;
      console.log(`\nMost recent mismatches (of ${mismatches.length} kept):`);
      for (const m of mismatches.slice(0, options.limit)) {
        console.log(`\n${m.at}  ${m.method} ${m.path}`);
        console.log(`  ${m.primary.side} ${m.primary.status} (request ${m.primary.requestId}${m.primary.traceparent ? `, trace ${m.primary.traceparent.split('-')[1]}` : ''})`);
        console.log(`  ${m.candidate.side} ${m.candidate.status} (request ${m.candidate.requestId})${m.statusMatch ? '' : '  ← status differs'}`);
        if (m.diff.length) console.log(formatTable(['OP', 'PATH', 'CANDIDATE VALUE'], m.diff.slice(0, 20).map((d) => [d.op, d.path, d.op === 'remove' ? '' : short(d.value)])).replace(/^/gm, '  '));
      }
    }),
  );
}
