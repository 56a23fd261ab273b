import { databaseConnection } from '@banyan/config';
import type { ConnectionSettings } from '@banyan/db';
import type { DomainSyncSpec } from '@banyan/sync';
import type { GatewayConfig } from '../config';
import type { Domain, Side } from '../domains';
import type { Topology } from '../topology';

/**
 * A domain's backfill/verify spec (its `data` in the migration's declaration, with the databases
 * the declaration resolved: `databaseEnv` overrides applied), or undefined when the domain has
 * none (it was never extracted).
 */
export const syncSpecOf = (topology: Topology, domain: Domain): DomainSyncSpec | undefined => topology.domain(domain).data;

/** The database of `domain`'s `side`: the spec's source (the monolith's) or target (the service's). */
export const sideDatabase = (side: Side, spec: DomainSyncSpec): string => (side === 'monolith' ? spec.sourceDatabase : spec.targetDatabase);

/**
 * The server `banyan verify` would connect to, taken from the gateway's validated config. Only the
 * server: the database names are the spec's, already resolved, so no `<DOMAIN>_DATABASE` convention
 * of @banyan/sync's connectDomain applies on top.
 */
export function syncEnv(config: GatewayConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: config.DATABASE_URL,
    PGHOST: config.PGHOST,
    PGPORT: String(config.PGPORT),
    PGUSER: config.PGUSER,
    PGPASSWORD: config.PGPASSWORD,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/**
 * The outboxes to show: GATEWAY_OUTBOX_DATABASES, else the monolith's declared database and both
 * databases of every domain that has a data spec (the domains that have been extracted).
 */
export function outboxDatabases(config: GatewayConfig, topology: Topology): string[] {
  if (config.GATEWAY_OUTBOX_DATABASES) return config.GATEWAY_OUTBOX_DATABASES.split(',');
  const names = topology.monolith.database ? [topology.monolith.database] : [];
  for (const domain of topology.names) {
    const spec = syncSpecOf(topology, domain);
    if (spec) names.push(spec.sourceDatabase, spec.targetDatabase);
  }
  return [...new Set(names)];
}

export const connectionFor = (config: GatewayConfig, database: string): ConnectionSettings => databaseConnection(config, database);
