import { createKnex, type Knex } from '@banyan/db';
import type { GatewayConfig } from './config';
import { connectionFor, syncEnv, syncSpecOf } from './dashboard/databases';
import { readOnly } from './dashboard/outbox';
import type { Domain, Side } from './domains';

/** Missing database, schema or table: nothing there can be waiting to be published. */
const ABSENT = new Set(['3D000', '3F000', '42P01']);

/**
 * The fence's question to the old side's outbox: does it still hold unpublished events of the
 * domain's aggregates? Read-only sessions, like the dashboard's outbox report; one small pool per
 * database, opened at the first switch. Domains without a sync spec (never extracted) answer
 * `undefined`: the fence then relies on its settle period alone.
 */
export function createOutboxDrainCheck(config: GatewayConfig) {
  const env = syncEnv(config);
  const pools = new Map<string, Knex>();
  const pool = (database: string) => {
    let knex = pools.get(database);
    if (!knex) pools.set(database, (knex = createKnex(readOnly(connectionFor(config, database)), { max: 1 })));
    return knex;
  };

  const unpublished = async (database: string, aggregateTypes: string[]): Promise<number> => {
    try {
      const { rows } = await pool(database).raw<{ rows: Array<{ n: string }> }>(
        // The rows left to publish are `outbox.unpublished` (ADR 0108); each is looked up by key,
        // so a switch's drain check costs the backlog, not a scan of the retained published rows.
        `SELECT count(*) AS n FROM outbox.unpublished u
          CROSS JOIN LATERAL (SELECT published_at, parked_at, aggregate_type FROM outbox.events WHERE position = u.position OFFSET 0) e
          WHERE e.published_at IS NULL AND e.parked_at IS NULL AND e.aggregate_type = ANY(?)`,
        [aggregateTypes],
      );
      return Number(rows[0].n);
    } catch (err) {
      if (ABSENT.has((err as { code?: string }).code ?? '')) return 0;
      throw err;
    }
  };

  return {
    drained: async (domain: Domain, sides: Side[]): Promise<boolean> => {
      const spec = syncSpecOf(domain);
      const types = spec ? [...new Set(spec.tables.map((t) => t.aggregateType).filter((t): t is string => !!t))] : [];
      if (!spec || types.length === 0) return true;
      const databases = sides.map((side) => (side === 'monolith' ? (env.MONOLITH_DATABASE ?? 'banyan_monolith') : (env[`${domain.toUpperCase()}_DATABASE`] ?? spec.targetDatabase)));
      const counts = await Promise.all(databases.map((d) => unpublished(d, types)));
      return counts.every((n) => n === 0);
    },
    async close() {
      await Promise.all([...pools.values()].map((k) => k.destroy()));
      pools.clear();
    },
  };
}
