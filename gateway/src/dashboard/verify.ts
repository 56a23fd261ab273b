import { connectDomain, verify, type Difference } from '@banyan/sync';
import type { Domain } from '../domains';
import type { Topology } from '../topology';
import { syncSpecOf } from './databases';

export interface VerifyResult {
  domain: Domain;
  source: string;
  target: string;
  startedAt: string;
  finishedAt: string;
  compared: number;
  differences: number;
  /** The first differences, as `banyan verify` prints them. */
  sample: Difference[];
  /** Set when the run could not compare (a database missing or unreachable). */
  error?: string;
}

const SAMPLE = 20;

/**
 * `banyan verify` on demand, one run per domain at a time (a second click joins the run in
 * progress), the latest result kept in memory with its time. Both databases are read inside
 * READ ONLY transactions: verify only reads, and from the dashboard it must not be able to do
 * anything else.
 */
export function createVerifyRunner(env: NodeJS.ProcessEnv, topology: Topology, record?: (result: VerifyResult) => Promise<void>) {
  const results = new Map<Domain, VerifyResult>();
  const running = new Map<Domain, Promise<VerifyResult>>();

  const run = async (domain: Domain): Promise<VerifyResult> => {
    const spec = syncSpecOf(topology, domain)!;
    const db = connectDomain(spec, env);
    const startedAt = new Date().toISOString();
    const { sourceDatabase: source, targetDatabase: target } = spec;
    let result: VerifyResult;
    try {
      const { compared, differences } = await db.source.transaction(
        (s) => db.target.transaction((t) => verify(spec, { source: s, target: t }), { readOnly: true }),
        { readOnly: true },
      );
      result = { domain, source, target, startedAt, finishedAt: new Date().toISOString(), compared, differences: differences.length, sample: differences.slice(0, SAMPLE) };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const error = code === '3D000' ? `${(err as Error).message} (not created)` : (err as Error).message;
      result = { domain, source, target, startedAt, finishedAt: new Date().toISOString(), compared: 0, differences: 0, sample: [], error };
    } finally {
      await db.close();
    }
    results.set(domain, result);
    // Kept where every instance's preflight of a switch reads it; a failure to keep it is not the run's.
    await record?.(result).catch(() => undefined);
    return result;
  };

  return {
    /** Domains that can be verified: those with a sync spec. */
    domains: (all: readonly Domain[]) => all.filter((d) => syncSpecOf(topology, d) !== undefined),
    results: () => Object.fromEntries(results) as Partial<Record<Domain, VerifyResult>>,
    running: () => [...running.keys()],
    start(domain: Domain): Promise<VerifyResult> {
      let p = running.get(domain);
      if (!p) {
        p = run(domain).finally(() => running.delete(domain));
        running.set(domain, p);
      }
      return p;
    },
  };
}

export type VerifyRunner = ReturnType<typeof createVerifyRunner>;
