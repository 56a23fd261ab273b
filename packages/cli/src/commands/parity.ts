import type { Command } from 'commander';
import type { Migration } from '@banyan/migration';
import { compareTargets, gatewaySide, renderReport, type Scenario, type Target } from '@banyan/parity';
import { CliError, EXIT, runAction } from '../admin-client';
import { declaredDomain, declaredNames, migrationOption, readMigration, shownFile, type MigrationOption } from '../declaration';

interface ParityOptions extends MigrationOption {
  a?: string;
  b?: string;
  gateway: string;
  scenario?: string;
  verbose?: boolean;
  json?: boolean;
  width: string;
  timeout: string;
}

export function registerParity(program: Command): void {
  const command = program
    .command('parity')
    .description("Run a domain's contract scenarios (the declaration's domains.<domain>.parity) through both routes and diff them side by side (exit 1 on any difference)")
    .argument('<domain>', 'a domain of the migration declaration, or all')
    .option('--a <url>', 'compare two base URLs directly instead of the gateway (with --b)')
    .option('--b <url>', 'the second base URL (with --a)')
    .option('--gateway <url>', 'the gateway whose route override chooses each side', process.env.BANYAN_GATEWAY_URL ?? 'http://127.0.0.1:8080')
    .option('--scenario <text>', 'only scenarios whose name contains this text')
    .option('--verbose', 'show matching steps too, not only differing ones')
    .option('--json', 'print the full report as JSON')
    .option('--width <n>', 'width of each side-by-side column', '60')
    .option('--timeout <ms>', 'per request', '10000')
    .addHelpText(
      'after',
      `
Through the gateway (default), each request of the domain carries x-banyan-route: monolith,
then extracted, proven by BANYAN_ADMIN_TOKEN in x-banyan-token; every response is checked for
the side that served it. Actors log in as the declaration's parity.auth says: admin steps as
parity.auth.admin.email with the password in its passwordEnv (default BANYAN_ADMIN_PASSWORD),
customers registered fresh through parity.auth.register. Scenarios create what they need
themselves, named after the run (parity-<run>-…): run against a system where that is acceptable.`,
    );
  migrationOption(command).action(
    runAction(async (domain: string, options: ParityOptions) => {
      const migration = readMigration(options);
      const scenarios = select(migration, domain, options.scenario);
      const [a, b] = targets(migration, domain, scenarios, options);
      const report = await compareTargets(scenarios, a, b);
      console.log(options.json ? JSON.stringify(report, null, 2) : renderReport(report, { verbose: options.verbose, width: Number(options.width) }));
      if (!report.identical) process.exitCode = 1;
    }),
  );
}

function select(migration: Migration, domain: string, filter: string | undefined): Scenario[] {
  const all = domain === 'all' ? Object.values(migration.domains).flatMap((d) => d.parity.scenarios) : declaredDomain(migration, domain).parity.scenarios;
  if (all.length === 0) {
    const withScenarios = Object.values(migration.domains).filter((d) => d.parity.scenarios.length).map((d) => d.name);
    const where = domain === 'all' ? 'domains.<domain>.parity' : `domains.${domain}.parity`;
    throw new CliError(`no parity scenarios for "${domain}": ${shownFile(migration)} declares no ${where}${withScenarios.length ? ` (declared for ${declaredNames(withScenarios)})` : ''}`, EXIT.invalid);
  }
  const chosen = filter ? all.filter((s) => s.name.toLowerCase().includes(filter.toLowerCase())) : all;
  if (chosen.length === 0) throw new CliError(`no ${domain} scenario matches "${filter}"`, EXIT.invalid);
  return chosen;
}

function targets(migration: Migration, domain: string, scenarios: Scenario[], options: ParityOptions): [Target, Target] {
  const timeoutMs = Number(options.timeout);
  const auth = migration.parity.auth;
  const adminCredentials = admin(migration, domain, scenarios);
  if (options.a || options.b) {
    if (!options.a || !options.b) throw new Error('--a and --b go together');
    return [
      { name: options.a, baseUrl: options.a, auth, adminCredentials, timeoutMs },
      { name: options.b, baseUrl: options.b, auth, adminCredentials, timeoutMs },
    ];
  }
  if (domain === 'all') throw new Error('"all" compares two base URLs (--a, --b); through the gateway, name one domain');
  const gatewayToken = process.env.BANYAN_ADMIN_TOKEN;
  // Without it the gateway would ignore the override for customers' requests, silently.
  if (!gatewayToken) throw new Error("BANYAN_ADMIN_TOKEN is not set: the gateway honours the route override only with it (or pass --a and --b)");
  const { prefixes } = migration.domains[domain];
  const side = (s: 'monolith' | 'extracted') => gatewaySide({ gatewayUrl: options.gateway, side: s, domain, prefixes, gatewayToken, auth, adminCredentials, timeoutMs });
  return [side('monolith'), side('extracted')];
}

/** The admin's credentials when a scenario acts as admin: the declaration's account, its password from the environment. */
function admin(migration: Migration, domain: string, scenarios: Scenario[]): { email: string; password: string } | undefined {
  if (!scenarios.some((s) => s.steps.some((step) => step.as === 'admin'))) return undefined;
  const account = migration.parity.auth?.admin;
  if (!account) throw new CliError(`the ${domain} scenarios act as admin, but ${shownFile(migration)} declares no parity.auth.admin (the account and the variable holding its password)`, EXIT.invalid);
  const password = process.env[account.passwordEnv];
  if (!password) throw new Error(`${account.passwordEnv} is not set: the ${domain} scenarios act as ${account.email} (npm start prints it)`);
  return { email: account.email, password };
}
