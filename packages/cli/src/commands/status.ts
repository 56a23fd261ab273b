import type { Command } from 'commander';
import { adminClient, describeMode, formatTable, runAction, type RouteView } from '../admin-client';

interface ShadowSummary {
  compared: number;
  matchRate: number | null;
  mismatched: number;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show the gateway's routing table: each domain's mode, percent, version and who changed it last")
    .option('--json', 'print the admin API answer as JSON')
    .action(
      runAction(async (options: { json?: boolean }) => {
        const admin = adminClient();
        const table = await admin.get<{ version: number; source: string; routes: RouteView[] }>('/routes');
        if (options.json) return void console.log(JSON.stringify(table, null, 2));
        // Shadowed domains also show how the candidate is doing, the number a migration waits on.
        const shadows = new Map<string, ShadowSummary>();
        for (const r of table.routes.filter((r) => r.mode === 'shadow')) shadows.set(r.domain, await admin.get<ShadowSummary>(`/shadow/${r.domain}`));
        console.log(`Gateway ${admin.base} · routing table v${table.version} (${table.source})\n`);
        console.log(
          formatTable(
            ['DOMAIN', 'MODE', 'SERVED BY', 'VERSION', 'CHANGED', 'BY'],
            table.routes.map((r) => {
              const shadow = shadows.get(r.domain);
              const mode = shadow ? `${describeMode(r)} (${shadow.matchRate === null ? 'no comparisons yet' : `${(shadow.matchRate * 100).toFixed(1)}% match of ${shadow.compared}`})` : describeMode(r);
              return [r.domain, mode, servedBy(r), String(r.version), r.updatedAt.replace('T', ' ').slice(0, 19), r.updatedBy];
            }),
          ),
        );
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
