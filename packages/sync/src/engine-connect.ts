import { databaseConnection, loadConfig, postgresEnv, z } from '@banyan/config';
import { createKnex, type Knex } from '@banyan/db';
import type { DomainSyncSpec } from './types';

/**
 * Both databases of a domain, on the server the libpq variables (or DATABASE_URL) name; each
 * database name can be overridden as `<SIDE>_DATABASE` (MONOLITH_DATABASE, PRODUCTS_DATABASE …)
 * so a test or a second environment can point the commands elsewhere.
 */
export function connectDomain(
  spec: DomainSyncSpec,
  env: NodeJS.ProcessEnv = process.env,
): { source: Knex; target: Knex; sourceName: string; targetName: string; close(): Promise<void> } {
  const config = loadConfig(z.object(postgresEnv), env);
  const sourceName = env.MONOLITH_DATABASE ?? spec.sourceDatabase;
  const targetName = env[`${spec.domain.toUpperCase()}_DATABASE`] ?? spec.targetDatabase;
  const source = createKnex(databaseConnection(config, sourceName), { max: 2 });
  const target = createKnex(databaseConnection(config, targetName), { max: 2 });
  return { source, target, sourceName, targetName, close: async () => void (await Promise.all([source.destroy(), target.destroy()])) };
}
