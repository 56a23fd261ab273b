import { AppError } from '@banyan/errors';
import type { Knex } from '@banyan/db';
import type { Mode } from '../domains';
import type { PreflightResult } from '../preflight';
import type { GateFigures, SnapshotJson, Thresholds } from './gates';

/** A step: a canary percent (100 is the switch itself, mode extracted), or shadowing first. */
export type Step = number | 'shadow';
export type RampStatus = 'running' | 'completed' | 'rolled-back' | 'aborted';

/** A routing row as a ramp moves it: a mode, or a route rule's following its domain. */
export interface RowState {
  mode: Mode;
  percent: number;
  inherit?: boolean;
}

export interface Verdict {
  step: Step;
  outcome: 'passed' | 'failed' | 'preflight-failed' | 'aborted';
  /** The failed gates, or the failed preflight checks, one sentence each. */
  reasons?: string[];
  figures?: GateFigures;
  preflight?: PreflightResult;
  /** The gateway instance that drove the step. */
  driver: string;
  at: string;
}

export interface Ramp {
  id: number;
  /** The routing key: a domain, or `domain#rule`. */
  key: string;
  steps: Step[];
  holdMs: number;
  thresholds: Thresholds;
  status: RampStatus;
  /** The step in progress (running), or the last one reached. */
  stepIndex: number;
  /** When the step's route change was made; null while it is still to be made. */
  stepStartedAt: string | null;
  fromRow: RowState;
  lastGood: RowState | null;
  verdicts: Verdict[];
  reason: string | null;
  actor: string;
  leaseOwner: string | null;
  leaseUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const toRamp = (r: Record<string, any>): Ramp => ({
  id: Number(r.id),
  key: r.key,
  steps: r.steps,
  holdMs: r.hold_ms,
  thresholds: r.thresholds,
  status: r.status,
  stepIndex: r.step_index,
  stepStartedAt: iso(r.step_started_at),
  fromRow: r.from_row,
  lastGood: r.last_good,
  verdicts: r.verdicts,
  reason: r.reason,
  actor: r.actor,
  leaseOwner: r.lease_owner,
  leaseUntil: iso(r.lease_until),
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
});

export interface RampPatch {
  status?: RampStatus;
  stepIndex?: number;
  stepStartedAt?: 'now' | null;
  lastGood?: RowState;
  verdict?: Verdict;
  reason?: string;
}

/** Ramps in the gateway's database: the only module with their SQL. */
export function createRampStore(knex: Knex) {
  return {
    async create(ramp: { key: string; steps: Step[]; holdMs: number; thresholds: Thresholds; fromRow: RowState; actor: string }): Promise<Ramp> {
      try {
        const [row] = await knex('gateway.ramps')
          .insert({ key: ramp.key, steps: JSON.stringify(ramp.steps), hold_ms: ramp.holdMs, thresholds: ramp.thresholds, status: 'running', from_row: ramp.fromRow, actor: ramp.actor })
          .returning('*');
        return toRamp(row);
      } catch (err) {
        // ramps_one_running: one running ramp per routing key.
        if ((err as { code?: string }).code === '23505') throw new AppError('GATEWAY.RAMP_RUNNING', 409, `A ramp of ${ramp.key.replace('#', ' rule ')} is running already: see banyan ramp status, or abort it first.`);
        throw err;
      }
    },
    async get(id: number): Promise<Ramp | undefined> {
      const row = await knex('gateway.ramps').where({ id }).first();
      return row ? toRamp(row) : undefined;
    },
    /** The running ramps and the latest finished ones, newest first; of `keys` only when given. */
    async list(keys?: string[], limit = 20): Promise<Ramp[]> {
      const rows = await knex('gateway.ramps')
        .modify((q) => (keys ? q.whereIn('key', keys) : q))
        .orderByRaw(`status = 'running' DESC, id DESC`)
        .limit(limit);
      return rows.map(toRamp);
    },
    async running(): Promise<Ramp[]> {
      return (await knex('gateway.ramps').where({ status: 'running' }).orderBy('id')).map(toRamp);
    },
    /**
     * Take or renew the lease of a running ramp for `owner`: granted when nobody holds it, `owner`
     * does, or the holder let it run out (stopped, crashed). One UPDATE, so two instances asking
     * at once cannot both get it.
     */
    async acquire(id: number, owner: string, leaseMs: number): Promise<Ramp | undefined> {
      const [row] = await knex('gateway.ramps')
        .where({ id, status: 'running' })
        .andWhere((q) => q.whereNull('lease_owner').orWhere('lease_owner', owner).orWhere('lease_until', '<', knex.fn.now()))
        .update({ lease_owner: owner, lease_until: knex.raw(`now() + make_interval(secs => ?)`, [leaseMs / 1000]) })
        .returning('*');
      return row ? toRamp(row) : undefined;
    },
    /** Give up `owner`'s leases (a stopping instance): another instance takes over at its next tick. */
    async release(owner: string): Promise<void> {
      await knex('gateway.ramps').where({ lease_owner: owner, status: 'running' }).update({ lease_owner: null, lease_until: null });
    },
    /**
     * Run `work` on a running ramp's row, locked, in one transaction with the route change it makes:
     * a step, a rollback and an abort cannot interleave. `owner`: only while it holds the lease.
     */
    async locked<T>(id: number, owner: string | null, work: (trx: Knex.Transaction, ramp: Ramp) => Promise<T>): Promise<T | undefined> {
      return knex.transaction(async (trx) => {
        const row = await trx('gateway.ramps').where({ id }).forUpdate().first();
        if (!row || row.status !== 'running' || (owner !== null && row.lease_owner !== owner)) return undefined;
        return work(trx, toRamp(row));
      });
    },
    /**
     * An instance's counters for a running ramp's step: the first report of a step sets its base
     * (what the instance had counted before the step: `base`, else these counters), later ones only
     * move `latest`. A late report of an earlier step (read before the driver moved on) changes
     * nothing. FOR SHARE waits
     * for a step, rollback or abort in progress on the ramp's row (locked FOR UPDATE): a report
     * cannot land after the ramp ended and its counters were deleted.
     */
    async reportCounters(id: number, instanceId: string, stepIndex: number, counters: SnapshotJson, base: SnapshotJson = counters): Promise<void> {
      await knex.raw(
        `INSERT INTO gateway.ramp_counters (ramp_id, instance_id, step_index, base, latest)
         SELECT id, ?, ?, ?::jsonb, ?::jsonb FROM gateway.ramps WHERE id = ? AND status = 'running' FOR SHARE
         ON CONFLICT (ramp_id, instance_id) DO UPDATE SET
           base = CASE WHEN gateway.ramp_counters.step_index = EXCLUDED.step_index THEN gateway.ramp_counters.base ELSE EXCLUDED.base END,
           step_index = EXCLUDED.step_index, latest = EXCLUDED.latest, updated_at = now()
         WHERE EXCLUDED.step_index >= gateway.ramp_counters.step_index`,
        [instanceId, stepIndex, JSON.stringify(base), JSON.stringify(counters), id],
      );
    },
    /** Every instance's counters for a ramp's step: what each had when it first saw the step, and its latest report. */
    async counters(id: number, stepIndex: number): Promise<Array<{ instanceId: string; base: SnapshotJson; latest: SnapshotJson }>> {
      const rows = await knex('gateway.ramp_counters').where({ ramp_id: id, step_index: stepIndex }).select('instance_id', 'base', 'latest');
      return rows.map((r: { instance_id: string; base: SnapshotJson; latest: SnapshotJson }) => ({ instanceId: r.instance_id, base: r.base, latest: r.latest }));
    },
    async save(trx: Knex.Transaction, id: number, patch: RampPatch): Promise<Ramp> {
      const [row] = await trx('gateway.ramps')
        .where({ id })
        .update({
          ...(patch.status ? { status: patch.status } : {}),
          ...(patch.stepIndex !== undefined ? { step_index: patch.stepIndex } : {}),
          ...(patch.stepStartedAt !== undefined ? { step_started_at: patch.stepStartedAt === 'now' ? trx.fn.now() : null } : {}),
          ...(patch.lastGood ? { last_good: patch.lastGood } : {}),
          ...(patch.verdict ? { verdicts: trx.raw(`verdicts || ?::jsonb`, [JSON.stringify([patch.verdict])]) } : {}),
          ...(patch.reason ? { reason: patch.reason } : {}),
          ...(patch.status && patch.status !== 'running' ? { lease_owner: null, lease_until: null } : {}),
          updated_at: trx.fn.now(),
        })
        .returning('*');
      // An ended ramp's counters are judged already: its verdicts keep the figures.
      if (patch.status && patch.status !== 'running') await trx('gateway.ramp_counters').where({ ramp_id: id }).delete();
      return toRamp(row);
    },
  };
}

export type RampStore = ReturnType<typeof createRampStore>;

/** The routing row a step sets: shadow, a canary of its percent, or (100) the switch itself. */
export const rowOfStep = (step: Step): RowState => (step === 'shadow' ? { mode: 'shadow', percent: 0 } : step >= 100 ? { mode: 'extracted', percent: 0 } : { mode: 'canary', percent: step });

export const describeStep = (step: Step) => (step === 'shadow' ? 'shadow' : step >= 100 ? 'extracted (100%)' : `canary ${step}%`);
