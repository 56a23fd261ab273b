import { InvalidArgumentError, type Command } from 'commander';
import { adminClient, CliError, describeMode, EXIT, runAction, type RouteView } from '../admin-client';
import type { Domain } from '@banyan/migration';
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
    .argument('<mode>', `${MODES.join(' | ')} (with --rule, also inherit)`)
    .option('--rule <name>', "switch one of the domain's declared route rules instead of the whole domain; its mode may also be `inherit` (follow the domain again)")
    .option('--percent <n>', "canary only: the share of clients (sticky by the domain's stickyKey) whose reads go to the extracted service; writes stay on the monolith until the switch", percentArg)
    .option('--force', 'switch even though the preflight failed (the side traffic moves to answers /readyz, its breaker is closed, its sync lags under the bound, the last verify was clean); audited as forced')
    .addHelpText('after', '\nA switch that moves client traffic to a side runs its preflight first and is refused (exit 2) with every failed check; see docs/gateway.md#preflight.\n\nExamples:\n  banyan route <domain> canary --percent 10\n  banyan route <domain> shadow\n  banyan route <domain> extracted\n  banyan route <domain> --rule <rule> extracted\n  banyan route <domain> --rule <rule> inherit');
  migrationOption(command).action(
    runAction(async (domain: string, mode: string, options: { percent?: number; rule?: string; force?: boolean } & MigrationOption) => {
      // An undeclared domain is refused here, naming the declared ones; the gateway validates the rest (and names the reason).
      const declared = declaredDomain(readMigration(options), domain);
      const admin = adminClient();
      const force: { force?: true } = options.force ? { force: true } : {};
      if (options.rule !== undefined) return routeRule(admin, declared, options.rule, mode, options.percent, force);
      const before = (await admin.get<{ routes: RouteView[] }>('/routes')).routes.find((r) => r.domain === domain);
      const result = await admin.put<{ changed: boolean; route: RouteView; preflight?: Preflight }>(`/routes/${encodeURIComponent(domain)}`, {
        mode,
        ...(options.percent === undefined ? {} : { percent: options.percent }),
        ...force,
      });
      const r = result.route;
      if (!result.changed) return void console.log(`${domain}: already ${describeMode(r)} (version ${r.version}); nothing changed.`);
      console.log(`${domain}: ${before ? describeMode(before) : '?'} → ${describeMode(r)} (version ${r.version})`);
      printPreflight(result.preflight);
      if (r.mode === 'shadow') console.log(`Follow the comparison with: banyan shadow ${domain}`);
    }),
  );
}

/** A route rule as GET /routes lists it under its domain (ADR 0213). */
export interface RuleView {
  rule: string;
  method: string;
  path: string;
  mode: string;
  percent: number | null;
  effective: { mode: string; percent: number };
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

export const describeRule = (r: RuleView) => (r.mode === 'inherit' ? `inherit (${describeMode(r.effective)})` : describeMode({ mode: r.mode, percent: r.percent ?? 0 }));

/** `banyan route <domain> --rule <name> <mode>`: one declared route rule (ADR 0213). */
async function routeRule(admin: ReturnType<typeof adminClient>, domain: Domain, name: string, mode: string, percent: number | undefined, force: { force?: true }): Promise<void> {
  if (!domain.routes.some((r) => r.name === name)) {
    const known = domain.routes.length ? `it declares ${domain.routes.map((r) => r.name).join(', ')}` : 'it declares none';
    throw new CliError(`Unknown route rule "${name}" of domain ${domain.name}: ${known}`, EXIT.invalid);
  }
  if (mode === 'inherit' && percent !== undefined) throw new CliError('--percent applies only to canary', EXIT.invalid);
  const path = `/routes/${encodeURIComponent(domain.name)}/rules/${encodeURIComponent(name)}`;
  const before = (await admin.get<{ routes: Array<{ domain: string; rules?: RuleView[] }> }>('/routes')).routes.find((r) => r.domain === domain.name)?.rules?.find((r) => r.rule === name);
  const body = mode === 'inherit' ? { inherit: true, ...force } : percent === undefined ? { mode, ...force } : { mode, percent, ...force };
  const result = await admin.put<{ changed: boolean; rule: RuleView; preflight?: Preflight }>(path, body);
  const r = result.rule;
  const label = `${domain.name} ${r.method} ${r.path} (${name})`;
  if (!result.changed) return void console.log(`${label}: already ${describeRule(r)} (version ${r.version}); nothing changed.`);
  console.log(`${label}: ${before ? describeRule(before) : '?'} → ${describeRule(r)} (version ${r.version})`);
  printPreflight(result.preflight);
}

/** The admin API's preflight of a switch (docs/gateway.md#preflight). */
export interface Preflight {
  side: string;
  ok: boolean;
  checks: Array<{ check: string; ok: boolean; skipped?: boolean; detail: string }>;
  ms: number;
}

/** A forced switch's failed preflight, one line per check (a passed one is quiet: `--json`-free output stays one line). */
function printPreflight(preflight: Preflight | undefined): void {
  if (!preflight || preflight.ok) return;
  console.log(`preflight of the ${preflight.side} side FAILED; switched anyway (--force, audited):`);
  for (const c of preflight.checks) console.log(`  ${c.ok ? (c.skipped ? 'skip' : 'ok  ') : 'FAIL'}  ${c.check}: ${c.detail}`);
}
