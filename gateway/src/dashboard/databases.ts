import { databaseConnection } from '@banyan/config';
import { loadSyncSpec, NoSyncSpecError, type DomainSyncSpec } from '@banyan/sync';
import type { ConnectionSettings } from '@banyan/db';
import type { GatewayConfig } from '../config';
import { DOMAINS, type Domain, type Side } from '../domains';

const specs = new Map<Domain, DomainSyncSpec | undefined>();

/**
 * A domain's backfill/verify spec (its `data` in the migration's declaration), or undefined when
 * the domain has none (it was never extracted). Remembered: the switch fence asks every 50 ms, and
 * each ask would find, require and validate the declaration again.
 */
export function syncSpecOf(domain: Domain): DomainSyncSpec | undefined {
  if (specs.has(domain)) return specs.get(domain);
  let spec: DomainSyncSpec | undefined;
  try {
    spec = loadSyncSpec(domain);
  } catch (err) {
    if (!(err instanceof NoSyncSpecError)) throw err;
  }
  specs.set(domain, spec);
  return spec;
}

/** The database of `domain`'s `side`, with the same overrides as `banyan verify` (MONOLITH_DATABASE, <DOMAIN>_DATABASE). */
export function sideDatabase(env: NodeJS.ProcessEnv, domain: Domain, side: Side, spec: DomainSyncSpec): string {
  return side === 'monolith' ? (env.MONOLITH_DATABASE ?? 'banyan_monolith') : (env[`${domain.toUpperCase()}_DATABASE`] ?? spec.targetDatabase);
}

/** The variables `banyan verify` reads, taken from the gateway's validated config. */
export function syncEnv(config: GatewayConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: config.DATABASE_URL,
    PGHOST: config.PGHOST,
    PGPORT: String(config.PGPORT),
    PGUSER: config.PGUSER,
    PGPASSWORD: config.PGPASSWORD,
    MONOLITH_DATABASE: config.MONOLITH_DATABASE,
  };
  for (const domain of DOMAINS) env[`${domain.toUpperCase()}_DATABASE`] = config[`${domain.toUpperCase()}_DATABASE` as keyof GatewayConfig] as string | undefined;
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/**
 * The outboxes to show: GATEWAY_OUTBOX_DATABASES, else the monolith's database and the database
 * of every domain that has a sync spec (the domains that have been extracted), with the same
 * overrides as `banyan verify`.
 */
export function outboxDatabases(config: GatewayConfig): string[] {
  if (config.GATEWAY_OUTBOX_DATABASES) return config.GATEWAY_OUTBOX_DATABASES.split(',');
  const env = syncEnv(config);
  const names = [env.MONOLITH_DATABASE ?? 'banyan_monolith'];
  for (const domain of DOMAINS) {
    const spec = syncSpecOf(domain);
    if (spec) names.push(sideDatabase(env, domain, 'extracted', spec));
  }
  return [...new Set(names)];
}

export const connectionFor = (config: GatewayConfig, database: string): ConnectionSettings => databaseConnection(config, database);
