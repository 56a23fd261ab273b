import type { Logger } from '@banyan/telemetry';
import type { Domain, Side } from './domains';
import type { Metrics } from './metrics';
import { keyLabels } from './rules';
import type { RouteRow } from './table';

/**
 * Where a row sends writes: the monolith until the domain is switched to its service. A canary
 * splits reads only (ADR 0304), so a percent change moves no write; only `extracted` does.
 */
export function writesTo(row: RouteRow): Side {
  return row.mode === 'extracted' ? 'extracted' : 'monolith';
}

export interface FenceOptions {
  /**
   * After the old side's writes finished and its outbox drained, wait this long for the new
   * side's consumer to apply them, when `applied` cannot tell whether it has.
   */
  settleMs: number;
  /** Held requests proceed after this long whatever the state of the old side. */
  maxMs: number;
  /**
   * Whether the old sides' outboxes hold no unpublished event of the domain's aggregates; absent
   * when the gateway cannot look (no sync spec), then only the settle period covers the relay.
   */
  drained?: (domain: Domain, sides: Side[]) => Promise<boolean>;
  /**
   * Whether `newSide` has applied what the old sides published for the domain since `sinceMs`;
   * `undefined` when it cannot tell (no sync spec, no such database), then `settleMs` stands in.
   */
  applied?: (domain: Domain, oldSides: Side[], newSide: Side, sinceMs: number) => Promise<boolean | undefined>;
  /**
   * Whether no other gateway instance may still send the domain's writes to the side the switch
   * at `version` moved them from (each has loaded that version and has no such write in flight).
   * Absent for a lone instance.
   */
  others?: (domain: Domain, version: number) => Promise<boolean>;
  /** This instance's own writes to an old side have all answered for some domain: tell the others. */
  onOwnWritesSettled?: () => void;
  /** How often `others`, `drained` and `applied` are asked while the fence waits for them. */
  pollMs?: number;
  metrics: Metrics;
  logger: Logger;
}

interface DomainFence {
  since: number;
  oldSides: Side[];
  newSide: Side;
  /** The routing version of the latest switch it covers: other instances must have loaded it. */
  version: number;
  phase: 'in-flight' | 'instances' | 'outbox' | 'applied' | 'settle';
  /** Bumped when a newer switch restarts the phases: an older poll chain then stops by itself. */
  generation: number;
  waiters: Array<() => void>;
  deadline: NodeJS.Timeout;
  step?: NodeJS.Timeout;
}

/**
 * The write fence of a switch (ADR 0303). When the side receiving a domain's writes changes, the
 * domain's unsafe requests are held until the unsafe requests already in flight have answered
 * (this instance's, then those of the other gateway instances sharing the routing table),
 * the old side's outbox has published their events, and the new side has applied them (its
 * sequence counters have caught up; a settle period where that cannot be read), so the first
 * write on the new side numbers after them. Bounded by `maxMs`.
 *
 * Cost outside a switch: `active` is false and the handler checks nothing else but the in-flight
 * count of unsafe requests (an integer per domain, needed to know what is in flight when a switch
 * is seen: it cannot be reconstructed afterwards).
 */
export function createWriteFence(options: FenceOptions) {
  const { settleMs, maxMs, metrics, logger } = options;
  const pollMs = options.pollMs ?? 50;
  const inFlight = new Map<Domain, number>();
  const fences = new Map<Domain, DomainFence>();

  const release = (domain: Domain, outcome: 'settled' | 'timeout') => {
    const f = fences.get(domain);
    if (!f) return;
    clearTimeout(f.deadline);
    if (f.step) clearTimeout(f.step);
    fences.delete(domain);
    api.active = fences.size > 0;
    // Released by the bound with its own writes still out: no longer one to wait for, say so.
    if (f.phase === 'in-flight') options.onOwnWritesSettled?.();
    const ms = Date.now() - f.since;
    metrics.fences.labels({ ...keyLabels(domain), outcome }).inc();
    if (outcome === 'timeout') {
      logger.warn({ domain, heldRequests: f.waiters.length, inFlight: inFlight.get(domain) ?? 0, phase: f.phase, ms }, 'switch fence: upper bound reached, held writes proceed');
    } else if (f.waiters.length > 0) {
      logger.info({ domain, heldRequests: f.waiters.length, ms }, 'switch fence: released held writes');
    }
    for (const go of f.waiters) go();
  };

  const settle = (domain: Domain, f: DomainFence) => {
    f.phase = 'settle';
    f.step = setTimeout(() => release(domain, 'settled'), settleMs);
  };

  /**
   * Ask `question` every `pollMs` until it answers true (then `next`) or cannot tell (`undefined`,
   * then `otherwise`); an error is asked again. Stops when the fence is gone (released by the
   * bound, or replaced).
   */
  const poll = (domain: Domain, f: DomainFence, question: () => Promise<boolean | undefined>, next: () => void, otherwise: () => void) => {
    const generation = f.generation;
    const current = () => fences.get(domain) === f && f.generation === generation;
    const ask = () => {
      f.step = undefined;
      question().then(
        (answer) => {
          if (!current()) return;
          if (answer === true) next();
          else if (answer === undefined) otherwise();
          else f.step = setTimeout(ask, pollMs);
        },
        (err: Error) => {
          if (!current()) return;
          logger.debug({ domain, phase: f.phase, err: err.message }, 'switch fence: could not read a side; asking again');
          f.step = setTimeout(ask, pollMs);
        },
      );
    };
    ask();
  };

  /** This instance's writes to the old side have answered: now the other instances' ones. */
  const ownWritesSettled = (domain: Domain, f: DomainFence) => {
    options.onOwnWritesSettled?.();
    const others = options.others;
    if (!others) return waitForOutbox(domain, f);
    f.phase = 'instances';
    poll(domain, f, () => others(domain, f.version), () => waitForOutbox(domain, f), () => waitForOutbox(domain, f));
  };

  const waitForOutbox = (domain: Domain, f: DomainFence) => {
    const drained = options.drained;
    if (!drained) return settle(domain, f);
    f.phase = 'outbox';
    poll(domain, f, () => drained(domain, f.oldSides), () => waitForApplied(domain, f), () => settle(domain, f));
  };

  const waitForApplied = (domain: Domain, f: DomainFence) => {
    const applied = options.applied;
    if (!applied) return settle(domain, f);
    f.phase = 'applied';
    poll(
      domain,
      f,
      () => applied(domain, f.oldSides.filter((side) => side !== f.newSide), f.newSide, f.since - maxMs),
      () => release(domain, 'settled'),
      () => settle(domain, f),
    );
  };

  const api = {
    /** The hot path's only question outside a switch. */
    active: false,
    /** An unsafe request of `domain` is being sent upstream. */
    started(domain: Domain): void {
      inFlight.set(domain, (inFlight.get(domain) ?? 0) + 1);
    },
    /** That request answered (headers relayed, or it failed, or its client went away). */
    finished(domain: Domain): void {
      const n = (inFlight.get(domain) ?? 1) - 1;
      inFlight.set(domain, n);
      if (n === 0 && api.active) {
        const f = fences.get(domain);
        if (f && f.phase === 'in-flight') ownWritesSettled(domain, f);
      }
    },
    inFlight: (domain: Domain) => inFlight.get(domain) ?? 0,
    /** Domains whose writes this instance still has in flight to the side a switch moved them from. */
    writingOld: (): Domain[] => [...fences].filter(([, f]) => f.phase === 'in-flight').map(([domain]) => domain),
    isFenced: (domain: Domain) => fences.has(domain),
    /** Hold an unsafe request of `domain` if its fence is up; `go` runs when it comes down. */
    hold(domain: Domain, go: () => void): boolean {
      const f = fences.get(domain);
      if (!f) return false;
      f.waiters.push(go);
      metrics.fenceHeld.labels(keyLabels(domain)).inc();
      return true;
    },
    /** The side receiving `domain`'s writes changed from `previous`'s to `next`'s: raise its fence. */
    switched(domain: Domain, previous: RouteRow, next: RouteRow): void {
      const existing = fences.get(domain);
      if (existing) {
        // A switch while the fence is up changes nothing it waits for: no write of the domain has
        // been sent anywhere since it went up, so the writes in flight and the events to publish
        // are the same ones. It keeps its phase and its deadline; the sides to ask follow.
        const side = writesTo(previous);
        if (!existing.oldSides.includes(side)) existing.oldSides.push(side);
        existing.newSide = writesTo(next);
        if (next.version > existing.version) {
          existing.version = next.version;
          // Other instances may have let writes through to the side this switch leaves (their own
          // fence for the previous switch came down already): past its own writes, this fence
          // asks them again, and everything after.
          if (existing.phase !== 'in-flight') {
            if (existing.step) clearTimeout(existing.step);
            existing.step = undefined;
            existing.generation++;
            ownWritesSettled(domain, existing);
          }
        }
        return;
      }
      const f: DomainFence = {
        since: Date.now(),
        oldSides: [writesTo(previous)],
        newSide: writesTo(next),
        version: next.version,
        phase: 'in-flight',
        generation: 0,
        waiters: [],
        deadline: setTimeout(() => release(domain, 'timeout'), maxMs),
      };
      fences.set(domain, f);
      api.active = true;
      logger.info({ domain, inFlight: inFlight.get(domain) ?? 0, from: writesTo(previous) }, 'switch fence raised: writes held until the old side settles');
      if ((inFlight.get(domain) ?? 0) === 0) ownWritesSettled(domain, f);
    },
    /** Shutdown: nothing stays held. */
    stop(): void {
      for (const domain of [...fences.keys()]) release(domain, 'settled');
    },
  };
  return api;
}

export type WriteFence = ReturnType<typeof createWriteFence>;
