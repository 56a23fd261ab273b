import type { Knex } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import { otherSide, type Side } from '../domains';
import type { SyncLag } from '../fence-outbox';
import type { Metrics } from '../metrics';
import type { Preflight, PreflightResult } from '../preflight';
import { reasonsOf } from '../preflight';
import { domainOfKey } from '../rules';
import type { RouteStore } from '../store';
import { evaluate, NOTHING, snapshot, snapshots, snapshotToJson, sumSnapshots, type GateVerdict, type SnapshotJson } from './gates';
import { describeStep, rowOfStep, type Ramp, type RampStore, type RowState, type Verdict } from './store';

export interface RampDriverOptions {
  /** This gateway instance: the lease's owner, and the driver each verdict names. */
  instanceId: string;
  ramps: RampStore;
  routes: RouteStore;
  /** Re-read the routing table now, after a change this instance made. */
  reload: () => Promise<void>;
  preflight: Preflight;
  metrics: Metrics;
  /** Every routing key (domains, `domain#rule`s): their counters are noted when this instance's table changes. */
  routingKeys: readonly string[];
  /** Called after each change of the routing table this instance routes by. */
  onTableChange: (listener: () => void) => () => void;
  hasSync: (domain: string) => boolean;
  lag: (domain: string, from: Side, to: Side) => Promise<SyncLag | undefined>;
  tickMs: number;
  leaseMs: number;
  logger: Logger;
}

/** Where an instance's window of a step starts: its counters then, as `baseFor` chooses them. */
export interface StepBase {
  /** This instance's last report of the ramp, if any: its step and when. */
  previous?: { stepIndex: number; at: number };
  /** This instance's counters at its latest routing-table change, and when. */
  atChange?: { at: number; counters: SnapshotJson };
  /** When this process started counting. */
  processStartedAt: number;
}

/** How far the database's clock and this process's may disagree about a step's start. */
const CLOCK_SLACK_MS = 1_000;

/**
 * The base of this instance's first report of a step (`undefined`: its counters now, as when
 * nothing better is known). Best: its counters when its routing table changed for the step, if
 * that change came after its last report and not before the step began (so an older route change
 * of the same key is never taken for this one). Else, a process that started after the step did
 * has counted nothing but the step. Without either, the window starts at this report, up to one
 * tick after the change (ADR 0214, amended).
 */
export function baseFor(stepIndex: number, stepStartedAt: string, b: StepBase): SnapshotJson | undefined {
  if (b.previous?.stepIndex === stepIndex) return undefined;
  const started = Date.parse(stepStartedAt);
  const change = b.atChange;
  if (change && change.at >= started - CLOCK_SLACK_MS && (!b.previous || change.at > b.previous.at)) return change.counters;
  if (!b.previous && b.processStartedAt > started + CLOCK_SLACK_MS) return NOTHING;
  return undefined;
}

/**
 * Drives the running ramps whose lease this instance holds (ADR 0214): every tick it renews the
 * lease, makes a step's route change after its preflight, then evaluates the step's gates on the
 * fleet's counters until the hold has passed (next step, or done) or a gate fails (rolled back to
 * the last good step, or to where the ramp started). Every instance, driving or not, reports its
 * own counters for each running step each tick (gateway.ramp_counters); the driver sums them. Its
 * state is the ramp's row and those reports: another instance, or this one restarted, resumes at
 * the recorded step, with the step's counts so far, once the lease runs out.
 */
export function createRampDriver(o: RampDriverOptions) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const processStartedAt = Date.now();
  /** Per ramp, this instance's last report; per routing key, its counters at the latest table change. */
  const reported = new Map<number, { stepIndex: number; at: number }>();
  const atChange = new Map<string, { at: number; counters: SnapshotJson }>();
  const noteChange = () => {
    const at = Date.now();
    snapshots(o.metrics, o.routingKeys).then(
      (read) => read.forEach((s, key) => atChange.set(key, { at, counters: snapshotToJson(s) })),
      () => undefined,
    );
  };
  let offTableChange: (() => void) | undefined;
  let ticking: Promise<void> = Promise.resolve();
  const log = o.logger.child({ component: 'ramp' });

  const verdict = (ramp: Ramp, outcome: Verdict['outcome'], extra: Partial<Verdict> = {}): Verdict => ({
    step: ramp.steps[ramp.stepIndex],
    outcome,
    driver: o.instanceId,
    at: new Date().toISOString(),
    ...extra,
  });

  const change = (trx: Knex.Transaction, ramp: Ramp, row: RowState, note: string) =>
    o.routes.update(ramp.key, { mode: row.mode, percent: row.percent, inherit: row.inherit ?? false, actor: `ramp-${ramp.id}`, note }, trx);

  /** Back to the last good step (or where the ramp started), through the routing table and so the switch fence. */
  const rollBack = async (ramp: Ramp, v: Verdict, reason: string) => {
    const target = ramp.lastGood ?? ramp.fromRow;
    const done = await o.ramps.locked(ramp.id, o.instanceId, async (trx, current) => {
      await change(trx, current, target, `ramp ${ramp.id} rolled back at ${describeStep(v.step)}: ${reason}`);
      return o.ramps.save(trx, ramp.id, { status: 'rolled-back', verdict: v, reason });
    });
    if (done) {
      log.warn({ ramp: ramp.id, key: ramp.key, step: v.step, reason, figures: v.figures }, 'ramp rolled back');
      await o.reload();
    }
  };

  const startStep = async (ramp: Ramp) => {
    const step = ramp.steps[ramp.stepIndex];
    const domain = domainOfKey(ramp.key);
    const preflight: PreflightResult = await o.preflight(domain, 'extracted');
    if (!preflight.ok) return rollBack(ramp, verdict(ramp, 'preflight-failed', { preflight, reasons: [reasonsOf(preflight)] }), `preflight failed: ${reasonsOf(preflight)}`);
    const label = `step ${ramp.stepIndex + 1} of ${ramp.steps.length}, ${describeStep(step)}`;
    const started = await o.ramps.locked(ramp.id, o.instanceId, async (trx) => {
      await change(trx, ramp, rowOfStep(step), `ramp ${ramp.id}: ${label}`);
      return o.ramps.save(trx, ramp.id, { stepStartedAt: 'now' });
    });
    if (!started) return;
    await o.reload();
    // This instance's base for the step, taken right after its own change; the others report theirs at their next tick.
    await report(started);
    log.info({ ramp: ramp.id, key: ramp.key, step }, `ramp: ${label}`);
  };

  /** The reading side's lag behind the writer: the service's while the monolith writes, the monolith's once the service does. */
  const lagMs = async (ramp: Ramp): Promise<number | null | undefined> => {
    const domain = domainOfKey(ramp.key);
    if (!o.hasSync(domain)) return undefined;
    const writer: Side = rowOfStep(ramp.steps[ramp.stepIndex]).mode === 'extracted' ? 'extracted' : 'monolith';
    try {
      const lag = await o.lag(domain, writer, otherSide(writer));
      return lag ? Math.round(lag.seconds * 1000) : null;
    } catch {
      return null;
    }
  };

  /** This instance's counters for the ramp's step in progress, for whichever instance drives it. */
  const report = async (ramp: Ramp) => {
    const counters = snapshotToJson(await snapshot(o.metrics, ramp.key));
    const base = baseFor(ramp.stepIndex, ramp.stepStartedAt!, { previous: reported.get(ramp.id), atChange: atChange.get(ramp.key), processStartedAt });
    await o.ramps.reportCounters(ramp.id, o.instanceId, ramp.stepIndex, counters, base);
    reported.set(ramp.id, { stepIndex: ramp.stepIndex, at: Date.now() });
  };

  const hold = async (ramp: Ramp) => {
    const reports = await o.ramps.counters(ramp.id, ramp.stepIndex);
    if (!reports.length) return;
    const step = ramp.steps[ramp.stepIndex];
    const held = Date.now() - Date.parse(ramp.stepStartedAt!);
    const fleet = { before: sumSnapshots(reports.map((r) => r.base)), after: sumSnapshots(reports.map((r) => r.latest)) };
    const gates: GateVerdict = evaluate(fleet.before, fleet.after, held / 1000, rowOfStep(step).mode, ramp.thresholds, await lagMs(ramp));
    if (gates.failed.length) return rollBack(ramp, verdict(ramp, 'failed', { reasons: gates.failed, figures: gates.figures }), gates.failed.join('; '));
    if (held < ramp.holdMs || !gates.enough) return;
    const last = ramp.stepIndex === ramp.steps.length - 1;
    const saved = await o.ramps.locked(ramp.id, o.instanceId, (trx) =>
      o.ramps.save(trx, ramp.id, {
        verdict: verdict(ramp, 'passed', { figures: gates.figures }),
        lastGood: rowOfStep(step),
        ...(last ? { status: 'completed' as const } : { stepIndex: ramp.stepIndex + 1, stepStartedAt: null }),
      }),
    );
    if (!saved) return;
    log.info({ ramp: ramp.id, key: ramp.key, step, figures: gates.figures }, last ? 'ramp completed' : 'ramp step passed');
    if (!last) await startStep(saved);
  };

  const tick = async () => {
    const running = await o.ramps.running();
    // An ended ramp's last report is of no more use.
    for (const id of reported.keys()) if (!running.some((r) => r.id === id)) reported.delete(id);
    for (const listed of running) {
      if (stopped) return;
      // A report that fails (the database away for a moment) costs this ramp's count one tick, not the tick.
      if (listed.stepStartedAt !== null) await report(listed).catch((err: Error) => log.debug({ err: err.message, ramp: listed.id }, 'ramp counters not reported'));
      const ramp = await o.ramps.acquire(listed.id, o.instanceId, o.leaseMs);
      if (!ramp) continue;
      if (ramp.stepStartedAt === null) await startStep(ramp);
      else await hold(ramp);
    }
  };

  const loop = () => {
    if (stopped) return;
    ticking = tick()
      .catch((err: Error) => log.warn({ err: err.message }, 'ramp tick failed; trying again next tick'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, o.tickMs).unref();
      });
  };

  return {
    start(): void {
      offTableChange = o.onTableChange(noteChange);
      timer = setTimeout(loop, 0);
    },
    /** Stop driving and give the leases up, so another instance takes over at once. */
    async stop(): Promise<void> {
      stopped = true;
      offTableChange?.();
      if (timer) clearTimeout(timer);
      await ticking;
      await o.ramps.release(o.instanceId).catch(() => undefined);
    },
  };
}

export type RampDriver = ReturnType<typeof createRampDriver>;
