import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { startMailCatcherIfFree } from '../dev/mail-catcher';
import { startTraceCatcherIfFree, type TraceCatcher } from '../dev/trace-catcher';
import { otlpTracesUrl, telemetryDisabled } from '@banyan/telemetry';
import { checkDependencies } from '../dev/preflight';
import { processTable, type ProcessSpec } from '../dev/processes';
import { migrationOption, readMigration, type MigrationOption } from '../declaration';
import { repoRoot } from '../dev/root';
import { DEFAULT_SUPERVISION, Supervisor } from '../dev/supervisor';

async function waitReady(spec: ProcessSpec, timeoutMs: number): Promise<boolean> {
  if (!spec.readyUrl) return true;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Where the processes' spans go, for the summary: the catcher, a configured endpoint, or nowhere and why. */
function tracesRow(env: NodeJS.ProcessEnv, catcher: TraceCatcher | 'failed' | undefined): string {
  if (catcher === 'failed') return 'not exported: the trace catcher could not start (see [traces] above)';
  if (catcher) return `caught here: ${catcher.url} (OTLP ${catcher.endpoint})`;
  if (telemetryDisabled(env)) return 'off (OTEL_SDK_DISABLED=true)';
  if (otlpTracesUrl(env)) return `exported to ${env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT}`;
  const port = env.BANYAN_TRACES_PORT ?? 4318;
  return `not exported: 127.0.0.1:${port} is taken (a Jaeger? set OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${port})`;
}

/**
 * `banyan start` (what `npm start` runs): check PostgreSQL and RabbitMQ, migrate and seed, then
 * run every process under one supervisor with prefixed logs, print where to look, and stop all
 * of them cleanly on Ctrl-C / SIGTERM.
 */
export function registerStart(program: Command): void {
  const command = program
    .command('start')
    .description("run the whole system locally (monolith, relay, the declaration's services, gateway) with prefixed logs")
    .option('--no-seed', 'do not seed an empty system');
  migrationOption(command).action(async (options: { seed: boolean } & MigrationOption) => {
    const root = repoRoot();
    // The services to run, their ports, URLs and databases: a wrong declaration stops here (bin.ts
    // prints it). As declared: processTable applies the environment's overrides itself.
    const migration = readMigration(options, { BANYAN_MIGRATION: process.env.BANYAN_MIGRATION });
    const problems = await checkDependencies(process.env);
    if (problems.length) {
      for (const p of problems) console.error(`banyan start: ${p}`);
      process.exit(1);
    }

    // A session token for the admin API when none is configured; printed once, never logged.
    const generatedToken = !process.env.BANYAN_ADMIN_TOKEN;
    const adminToken = process.env.BANYAN_ADMIN_TOKEN ?? randomBytes(24).toString('base64url');
    const env: NodeJS.ProcessEnv = { ...process.env, BANYAN_ADMIN_TOKEN: adminToken };
    // Nine processes, each with its pools and relay, on one machine whose PostgreSQL allows 100
    // connections by default: pools of 4 (unless set) leave room for a second system beside this
    // one (a test's, a colleague's). @banyan/db's createKnex reads it; explicit sizes stay.
    env.BANYAN_PG_POOL_MAX ??= '4';
    // Credentials the processes share, as the declaration lists them (`service.start.secrets`; the
    // shop's: the payments door's own token at the payments service, ADR 0311): processes call each
    // other with credentials of their own, never the admin token. Nobody types them: not printed.
    for (const domain of Object.values(migration.domains)) {
      for (const name of domain.service.start?.secrets ?? []) env[name] ??= randomBytes(24).toString('base64url');
    }

    if (options.seed) {
      const seed = spawnSync(process.execPath, [path.join(root, 'monolith/dist/seed-main.js')], { env, encoding: 'utf8' });
      process.stdout.write(seed.stdout);
      process.stderr.write(seed.stderr);
      if (seed.status !== 0) process.exit(seed.status ?? 1);
    }

    // Without Mailpit on SMTP_PORT, catch the shop's emails here so a newcomer can see them.
    const mail = await startMailCatcherIfFree({
      host: env.SMTP_HOST ?? '127.0.0.1',
      smtpPort: Number(env.SMTP_PORT ?? 1025),
      webPort: Number(env.BANYAN_MAIL_WEB_PORT ?? 8025),
      log: (line) => console.log(`[mail] ${line.replace(/[\x00-\x1f\x7f]/g, ' ')}`),
    }).catch((err: Error) => {
      console.error(`[mail] no mail catcher (${err.message}); emails stay pending until an SMTP server listens on SMTP_PORT`);
      return undefined;
    });

    // Without a collector configured, catch the processes' spans here so a newcomer can see a
    // whole trace (ADR 0406); a configured endpoint, or anything on the port, always wins.
    let traces: TraceCatcher | 'failed' | undefined;
    if (!otlpTracesUrl(env) && !telemetryDisabled(env)) {
      const log = (line: string) => console.error(`[traces] ${line.replace(/[\x00-\x1f\x7f]/g, ' ')}`);
      traces = await startTraceCatcherIfFree({ host: '127.0.0.1', port: Number(env.BANYAN_TRACES_PORT ?? 4318), log }).catch((err: Error) => {
        console.error(`[traces] no trace catcher (${err.message}); spans are not exported`);
        return 'failed' as const;
      });
      if (traces && traces !== 'failed') env.OTEL_EXPORTER_OTLP_ENDPOINT = traces.endpoint;
    }

    const specs = processTable(root, env, migration);
    // Each process's readiness, polled from now (a poll before its start just fails and retries); a
    // process that starts after others (the relay) is given its full minute from then.
    const readiness = new Map<string, Promise<boolean>>();
    for (const s of specs) if (!s.startAfter) readiness.set(s.name, waitReady(s, 60_000));
    // What a held-back process's first start waits for: the readiness of the processes it names.
    const gates = new Map<string, Promise<unknown>>();
    for (const s of specs) {
      if (!s.startAfter) continue;
      const gate = Promise.all(s.startAfter.map((name) => readiness.get(name)));
      gates.set(s.name, gate);
      readiness.set(s.name, gate.then(() => waitReady(s, 60_000)));
    }
    // Each child in its own process group, restarted when it ends, all stopped together (ADR 0407).
    const guard = path.join(__dirname, '../dev/orphan-guard.js');
    const supervisor = new Supervisor(
      specs.map((spec) => ({
        name: spec.name,
        command: process.execPath,
        args: ['--require', guard, path.resolve(root, spec.entry)],
        env: { ...env, OTEL_SERVICE_NAME: env.OTEL_SERVICE_NAME ?? `banyan-${spec.name}`, ...spec.env, BANYAN_SUPERVISOR_PID: String(process.pid) },
        ...(gates.has(spec.name) ? { startAfter: gates.get(spec.name) } : {}),
      })),
      { ...DEFAULT_SUPERVISION, write: (stream, line) => (stream === 'out' ? process.stdout : process.stderr).write(`${line}\n`) },
    );
    // Stopped by the user (Ctrl-C, SIGTERM): a clean exit once every process has shut down; a
    // second signal kills them at once. Whatever ends the supervisor, its children go with it.
    let signals = 0;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (++signals > 1) {
          supervisor.kill();
          process.exit(130);
        }
        console.error(`[banyan] ${signal}: stopping every process (again to kill them at once)`);
        void supervisor.stop({ code: 0, reason: `stopped by ${signal}` });
      });
    }
    // A bug in the supervisor itself (a catcher's handler, say) stops the system cleanly rather
    // than leaving its processes running with nobody to stop them.
    const crashed = (err: unknown) => {
      console.error(`banyan start: the supervisor failed: ${err instanceof Error ? err.stack : String(err)}`);
      void supervisor.stop({ code: 1, reason: 'the supervisor itself failed (above)' });
    };
    process.on('uncaughtException', crashed);
    process.on('unhandledRejection', crashed);
    process.on('exit', () => supervisor.kill());
    supervisor.start();
    // Exiting ends the mail and trace catchers too; they hold nothing that needs flushing.
    void supervisor.done.then((outcome) => {
      if (outcome.code !== 0) console.error(`banyan start: ${outcome.reason}; every process was stopped`);
      process.exit(outcome.code);
    });

    const ready = await Promise.all(specs.map((s) => readiness.get(s.name)!));
    const row = (name: string, value: string) => `  ${name.padEnd(18)} ${value}`;
    const lines = [
      '',
      'Banyan is running:',
      ...specs.flatMap((s, i) => (s.url ? [row(s.name, `${s.url}${ready[i] ? '' : '  (not ready yet: see its log lines)'}`)] : [])),
    ];
    if (specs.some((s) => s.name === 'gateway')) {
      lines.push(row('admin + dashboard', `http://127.0.0.1:${env.GATEWAY_ADMIN_PORT ?? 8081}/`));
    }
    lines.push(
      row('admin token', generatedToken ? `${adminToken}  (generated for this session; set BANYAN_ADMIN_TOKEN to choose it)` : '(from BANYAN_ADMIN_TOKEN)'),
      row('mail', mail ? `caught here: ${mail.url} (SMTP ${mail.smtp})` : `sent to SMTP ${env.SMTP_HOST ?? '127.0.0.1'}:${env.SMTP_PORT ?? 1025} (Mailpit: http://127.0.0.1:8025)`),
      row('traces', tracesRow(env, traces)),
      row('node', `${process.version} (${process.execPath})`),
      row('RabbitMQ', 'http://127.0.0.1:15672 (management UI, when enabled)'),
      '  Send traffic to the gateway. Stop with Ctrl-C.',
      '',
    );
    console.log(lines.join('\n'));
    // The command lasts as long as the system: `done` ends the process (above).
    await supervisor.done;
  });
}
