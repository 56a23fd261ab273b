import { InvalidArgumentError, type Command } from 'commander';
import { adminClient, CliError, EXIT, formatTable, runAction } from '../admin-client';
import { declaredDomain, migrationOption, readMigration, type MigrationOption } from '../declaration';

/** A ramp as the admin API answers it (GET /ramps/:id). */
interface RampView {
  id: number;
  key: string;
  steps: Array<number | 'shadow'>;
  holdMs: number;
  status: 'running' | 'completed' | 'rolled-back' | 'aborted';
  stepIndex: number;
  stepStartedAt: string | null;
  reason: string | null;
  leaseOwner: string | null;
  verdicts: Array<{ step: number | 'shadow'; outcome: string; reasons?: string[]; driver: string; at: string; figures?: { new: { requests: number; errorRate: number | null; p99Ms: number | null } } }>;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `2m`, `30s`, `500ms`: a unit is required, so `--hold 2` cannot mean two minutes to one reader and two seconds to another. */
export const durationArg = (value: string) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new InvalidArgumentError('a duration with its unit: 500ms, 30s, 2m, 1h.');
  return Math.round(Number(m[1]) * UNITS[m[2]]);
};

const stepsArg = (value: string) => {
  const steps = value.split(',').map((s) => (s === 'shadow' ? s : Number(s)));
  if (steps.some((s) => s !== 'shadow' && (!Number.isInteger(s) || (s as number) < 1 || (s as number) > 100))) {
    throw new InvalidArgumentError('percents from 1 to 100 separated by commas, optionally starting with shadow: shadow,1,5,25,50,100.');
  }
  return steps;
};

const rateArg = (value: string) => {
  const digits = value.endsWith('%') ? value.slice(0, -1) : value;
  const n = digits.trim() === '' ? NaN : Number(digits) / (value.endsWith('%') ? 100 : 1);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('a rate from 0 to 1, or a percent: 0.01 or 1%.');
  return n;
};

/** What the admin API takes (gateway/src/ramp/api.ts), refused here with the same bounds. */
const ratioArg = (value: string) => {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError('a ratio of 1 or more: 2 lets the new side be twice as slow.');
  return n;
};

const countArg = (value: string) => {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new InvalidArgumentError('a whole number from 1 to 1000000.');
  return n;
};

const describeStep = (s: number | 'shadow') => (s === 'shadow' ? 'shadow' : `${s}%`);
const label = (key: string) => key.replace('#', ' rule ');
const pct = (r: number | null | undefined) => (r === null || r === undefined ? 'n/a' : `${(r * 100).toFixed(1)}%`);

function verdictLine(v: RampView['verdicts'][number]): string {
  const f = v.figures?.new;
  const figures = f ? ` (new side: ${f.requests} requests, errors ${pct(f.errorRate)}, p99 ${f.p99Ms === null ? 'n/a' : `${Math.round(f.p99Ms)} ms`})` : '';
  return `  ${describeStep(v.step)}: ${v.outcome}${figures}${v.reasons?.length ? `\n    ${v.reasons.join('\n    ')}` : ''}`;
}

interface RampOptions extends MigrationOption {
  rule?: string;
  steps: Array<number | 'shadow'>;
  hold: number;
  maxErrorRate?: number;
  maxP99Ratio?: number;
  p99Floor?: number;
  maxMismatchRate?: number;
  maxLag?: number;
  minRequests?: number;
  detach?: boolean;
}

export function registerRamp(program: Command): void {
  const command = program
    .command('ramp')
    .description('move a domain (or one route rule) to its service step by step: a preflight, then a hold with gates at every step; a failed gate rolls back by itself')
    .argument('<domain|status|abort>', 'a declared domain to ramp; `status [domain]` lists ramps; `abort <domain>` stops its running ramp and routes back to where it started')
    .argument('[domain]', 'with status or abort: the domain')
    .option('--rule <name>', "ramp one of the domain's declared route rules instead of the whole domain")
    .option('--steps <list>', 'canary percents, 100 being the switch itself; `shadow` may come first', stepsArg, [1, 5, 25, 50, 100])
    .option('--hold <duration>', 'how long each step holds with its gates passing before the next', durationArg, 120_000)
    .option('--max-error-rate <rate>', "new side's failure rate over the old side's, at most (default 1%)", rateArg)
    .option('--max-p99-ratio <n>', "new side's p99 over the old side's, at most (default 2)", ratioArg)
    .option('--p99-floor <duration>', 'a p99 under this never fails the latency gate (default 100ms)', durationArg)
    .option('--max-mismatch-rate <rate>', 'while shadowing: differing answers, at most (default 1%)', rateArg)
    .option('--max-lag <duration>', 'sync lag of the reading side behind the writer, at most (default 5s)', durationArg)
    .option('--min-requests <n>', 'requests the new side must answer in a step before it can pass (default 20)', countArg)
    .option('--detach', 'start the ramp and return; follow it with `banyan ramp status`')
    .addHelpText(
      'after',
      [
        '',
        'Gates, evaluated every GATEWAY_RAMP_TICK_MS (1 s) on the counters of every gateway instance for the domain, new side against old:',
        '  error rate, p99 latency, shadow mismatch rate (shadow step), sync lag. See docs/gateway.md#ramp.',
        '',
        'Examples:',
        '  banyan ramp <domain> --steps 1,5,25,50,100 --hold 2m',
        '  banyan ramp <domain> --steps shadow,10,100 --hold 5m --max-mismatch-rate 0.5%',
        '  banyan ramp status',
        '  banyan ramp abort <domain>',
      ].join('\n'),
    );
  migrationOption(command).action(
    runAction(async (first: string, second: string | undefined, options: RampOptions) => {
      const migration = readMigration(options);
      const admin = adminClient();
      if (first === 'status') return status(admin, second === undefined ? undefined : declaredDomain(migration, second).name);
      if (first === 'abort') {
        if (!second) throw new CliError('banyan ramp abort <domain>: name the domain whose ramp to abort', EXIT.invalid);
        return abort(admin, declaredDomain(migration, second).name);
      }
      const domain = declaredDomain(migration, first).name;
      const thresholds = Object.fromEntries(
        Object.entries({
          maxErrorRate: options.maxErrorRate,
          maxP99Ratio: options.maxP99Ratio,
          p99FloorMs: options.p99Floor,
          maxMismatchRate: options.maxMismatchRate,
          maxLagMs: options.maxLag,
          minRequests: options.minRequests,
        }).filter(([, v]) => v !== undefined),
      );
      const ramp = await admin.post<RampView>('/ramps', { domain, ...(options.rule ? { rule: options.rule } : {}), steps: options.steps, holdMs: options.hold, thresholds });
      console.log(`ramp ${ramp.id} of ${label(ramp.key)}: ${ramp.steps.map(describeStep).join(' → ')}, holding ${ramp.holdMs / 1000} s each`);
      if (options.detach) return void console.log(`Follow it with: banyan ramp status ${domain}`);
      await follow(admin, ramp);
    }),
  );
}

/** Print each verdict as it comes until the ramp ends; a rollback or an abort exits 1. */
async function follow(admin: ReturnType<typeof adminClient>, started: RampView): Promise<void> {
  let shown = 0;
  const every = Math.min(1_000, Math.max(100, started.holdMs / 4));
  for (;;) {
    const ramp = await admin.get<RampView>(`/ramps/${started.id}`);
    for (const v of ramp.verdicts.slice(shown)) console.log(verdictLine(v));
    shown = ramp.verdicts.length;
    if (ramp.status === 'completed') return void console.log(`ramp ${ramp.id}: completed; ${label(ramp.key)} is at ${describeStep(ramp.steps[ramp.steps.length - 1])}`);
    if (ramp.status !== 'running') throw new CliError(`ramp ${ramp.id}: ${ramp.status}: ${ramp.reason ?? ''}`, 1);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function status(admin: ReturnType<typeof adminClient>, domain: string | undefined): Promise<void> {
  const { items } = await admin.get<{ items: RampView[] }>(`/ramps${domain ? `?domain=${encodeURIComponent(domain)}` : ''}`);
  if (!items.length) return void console.log(domain ? `No ramp of ${domain} yet.` : 'No ramp yet.');
  const rows = items.map((r) => [
    String(r.id),
    label(r.key),
    r.status,
    r.steps.map((s, i) => (i === r.stepIndex && r.status === 'running' ? `[${describeStep(s)}]` : describeStep(s))).join(' '),
    `${r.holdMs / 1000} s`,
    r.status === 'running' ? (r.leaseOwner ?? 'waiting for a driver') : (r.reason ?? ''),
  ]);
  console.log(formatTable(['RAMP', 'OF', 'STATUS', 'STEPS', 'HOLD', 'DRIVER / REASON'], rows));
  const running = items.find((r) => r.status === 'running') ?? items[0];
  if (running.verdicts.length) {
    console.log(`\nramp ${running.id}:`);
    for (const v of running.verdicts) console.log(verdictLine(v));
  }
}

async function abort(admin: ReturnType<typeof adminClient>, domain: string): Promise<void> {
  const { items } = await admin.get<{ items: RampView[] }>(`/ramps?domain=${encodeURIComponent(domain)}`);
  const running = items.filter((r) => r.status === 'running');
  if (!running.length) throw new CliError(`no ramp of ${domain} is running`, EXIT.invalid);
  for (const r of running) {
    const ramp = await admin.post<RampView>(`/ramps/${r.id}/abort`);
    console.log(`ramp ${ramp.id} of ${label(ramp.key)}: aborted; routed back to where it started`);
  }
}
