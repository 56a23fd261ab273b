import { InvalidArgumentError, type Command } from 'commander';
import { adminClient, describeMode, runAction, type RouteView } from '../admin-client';
import { declaredDomain, migrationOption, readMigration, type MigrationOption } from '../declaration';

const MODES = ['monolith', 'extracted', 'canary', 'shadow'];

const percentArg = (value: string) => {
  if (!/^\d{1,3}$/.test(value) || Number(value) > 100) throw new InvalidArgumentError('a whole number from 0 to 100.');
  return Number(value);
};

export function registerRoute(program: Command): void {
  const command = program
    .command('route')
    .description('switch a domain live: every gateway instance follows within a second; in-flight requests finish where they started')
    .argument('<domain>', 'a domain of the migration declaration (`banyan status` lists them)')
    .argument('<mode>', MODES.join(' | '))
    .option('--percent <n>', "canary only: the share of clients (sticky by the domain's stickyKey) whose reads go to the extracted service; writes stay on the monolith until the switch", percentArg)
    .addHelpText('after', '\nExamples:\n  banyan route <domain> canary --percent 10\n  banyan route <domain> shadow\n  banyan route <domain> extracted');
  migrationOption(command).action(
    runAction(async (domain: string, mode: string, options: { percent?: number } & MigrationOption) => {
      // An undeclared domain is refused here, naming the declared ones; the gateway validates the rest (and names the reason).
      declaredDomain(readMigration(options), domain);
      const admin = adminClient();
      const before = (await admin.get<{ routes: RouteView[] }>('/routes')).routes.find((r) => r.domain === domain);
      const result = await admin.put<{ changed: boolean; route: RouteView }>(`/routes/${encodeURIComponent(domain)}`, options.percent === undefined ? { mode } : { mode, percent: options.percent });
      const r = result.route;
      if (!result.changed) return void console.log(`${domain}: already ${describeMode(r)} (version ${r.version}); nothing changed.`);
      console.log(`${domain}: ${before ? describeMode(before) : '?'} → ${describeMode(r)} (version ${r.version})`);
      if (r.mode === 'shadow') console.log(`Follow the comparison with: banyan shadow ${domain}`);
    }),
  );
}
