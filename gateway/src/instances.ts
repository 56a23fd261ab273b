import { randomUUID } from 'node:crypto';
import type { Logger } from '@banyan/telemetry';
import { coalesced } from './coalesced';
import type { Domain } from './domains';
import type { RouteStore } from './store';

/** How often an instance reports itself, and how long another counts it as alive after that. */
const INSTANCE_HEARTBEAT_MS = 1_000;
const INSTANCE_LIVE_MS = 3_000;

export interface InstanceHeartbeatOptions {
  store: RouteStore;
  logger: Logger;
  /** What this instance routes by and which domains' writes it still sends to an old side, read when a report runs. */
  state: () => { tableVersion: number; writingOld: Domain[] };
}

/**
 * Other gateway instances on the same routing table (ADR 0303): each reports what it routes by
 * and which domains' writes it still sends to an old side, so every instance's fence waits for
 * all of them. Reports are serialised and coalesced like reloads: the row always ends with the
 * latest state.
 */
export function createInstanceHeartbeat({ store, logger, state }: InstanceHeartbeatOptions) {
  const instanceId = randomUUID();
  let stopped = false;
  let heartbeat: NodeJS.Timeout | undefined;

  const report = coalesced(async () => {
    // Read when it runs, not when asked: a switch reports once its new table is in place.
    await new Promise((r) => setImmediate(r));
    // A stopping instance's row is deleted, and must not come back from a late report.
    if (stopped) return;
    try {
      const { tableVersion, writingOld } = state();
      await store.reportInstance(instanceId, tableVersion, writingOld);
    } catch (err) {
      logger.debug({ err: (err as Error).message }, 'gateway instance heartbeat failed');
    }
  });

  return {
    instanceId,
    /** Report now (a new table, own writes to an old side settled); the heartbeat repeats it. */
    report,
    /** The fence's question: does no other live instance still send `domain`'s writes to an old side as of `version`? */
    othersSettled: async (domain: Domain, version: number): Promise<boolean> =>
      (await store.instancesWritingOld(instanceId, domain, version, INSTANCE_LIVE_MS)).length === 0,
    /** Instances silent for long are forgotten at start, not on every fence poll. */
    async forgetSilent(): Promise<void> {
      await store.forgetSilentInstances(INSTANCE_LIVE_MS * 10);
    },
    async start(): Promise<void> {
      await report();
      heartbeat = setInterval(() => void report(), INSTANCE_HEARTBEAT_MS);
      heartbeat.unref();
    },
    /** Stop reporting and delete this instance's row. */
    async stop(): Promise<void> {
      if (heartbeat) clearInterval(heartbeat);
      stopped = true;
      await report(); // waits for a report in progress; reports nothing more
      await store.forgetInstance(instanceId).catch(() => undefined);
    },
  };
}

export type InstanceHeartbeat = ReturnType<typeof createInstanceHeartbeat>;
