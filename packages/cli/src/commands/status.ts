import type { Command } from 'commander';
import { adminClient, describeMode, formatTable, runAction, type RouteView } from '../admin-client';
import { declaredNames, migrationOption, readMigration, shownFile, type MigrationOption } from '../declaration';
import { describeRule, type RuleView } from './route';

interface ShadowSummary {
  compared: number;
  matchRate: number | null;
  mismatched: number;
}

export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description("show the gateway's routing table: each declared domain's mode, percent, version and who changed it last")
    .option('--json', 'print the admin API answer as JSON');
  migrationOption(command).action(
    runAction(async (options: { json?: boolean } & MigrationOption) => {
      const migration = readMigration(options);
      const admin = adminClient();
      const table = await admin.get<{ version: number; source: string; routes: Array<RouteView & { rules?: RuleView[] }> }>('/routes');
      if (options.json) return void console.log(JSON.stringify(table, null, 2));
      // Shadowed domains also show how the candidate is doing, the number a migration waits on.
      const shadows = new Map<string, ShadowSummary>();
      for (const r of table.routes.filter((r) => r.mode === 'shadow')) shadows.set(r.domain, await admin.get<ShadowSummary>(`/shadow/${r.domain}`));
      console.log(`Gateway ${admin.base} · routing table v${table.version} (${table.source})\n`);
      // In the declaration's order; a domain only one side knows is named below the table.
      const declared = Object.keys(migration.domains);
      const routes = new Map(table.routes.map((r) => [r.domain, r]));
      console.log(
        formatTable(
          ['DOMAIN', 'MODE', 'SERVED BY', 'VERSION', 'CHANGED', 'BY'],
          declared.flatMap((domain) => {
            const r = routes.get(domain);
            if (!r) return [];
            const shadow = shadows.get(r.domain);
            const mode = shadow ? `${describeMode(r)} (${shadow.matchRate === null ? 'no comparisons yet' : `${(shadow.matchRate * 100).toFixed(1)}% match of ${shadow.compared}`})` : describeMode(r);
            // A domain's route rules (ADR 0213), each under it: its own mode or inherit, served by its effective one.
            const rules = (r.rules ?? []).map((rule) => [
              `  ${rule.method} ${rule.path} (${rule.rule})`,
              describeRule(rule),
              servedBy({ ...r, ...rule.effective }),
              String(rule.version),
              (rule.updatedAt ?? '').replace('T', ' ').slice(0, 19),
              rule.updatedBy ?? '',
            ]);
            return [[r.domain, mode, servedBy(r), String(r.version), r.updatedAt.replace('T', ' ').slice(0, 19), r.updatedBy], ...rules];
          }),
        ),
      );
      const file = shownFile(migration);
      const unrouted = declared.filter((d) => !routes.has(d));
      const undeclared = table.routes.map((r) => r.domain).filter((d) => !Object.hasOwn(migration.domains, d));
      if (unrouted.length) console.log(`\nDeclared in ${file} but not routed by this gateway: ${declaredNames(unrouted)}`);
      if (undeclared.length) console.log(`\nRouted by this gateway but not declared in ${file}: ${declaredNames(undeclared)}`);
    }),
  );
}

function servedBy(r: RouteView): string {
  switch (r.mode) {
    case 'monolith':
      return r.targets.monolith;
    case 'extracted':
      return r.targets.extracted;
    case 'shadow':
      return `${r.targets.monolith} (copy to ${r.targets.extracted})`;
    default:
      return `${r.targets.extracted} ${r.percent}% / ${r.targets.monolith} ${100 - r.percent}%`;
  }
}
