import type { TokenVerifier } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import { names } from '@banyan/messaging';
import { buildService, type ServiceDefinition, type ServiceParts } from '@banyan/service-kit';
import { liveProjection } from '@banyan/sync';
import type { Logger } from '@banyan/telemetry';
import { analyticsSchema } from './data/migrations';
import { ANALYTICS_SCHEMA, type Definition } from './data/projection-tables';
import { analyticsRepository } from './data/repository';
import { startProjections } from './events/projections';
import { analyticsRouter, type ReadLive } from './http/routes';

export { loadAnalyticsServiceConfig, analyticsServiceEnv, type AnalyticsServiceConfig } from './config';
export type { SalesReport } from './domain/sales-report';
export type { DaySales, ProductSales } from './data/repository';

export const SERVICE_NAME = 'analytics-service';

export interface AnalyticsServiceOptions {
  /** RabbitMQ URL: the read models are built from the history stream. */
  url: string;
  /** The broker namespace the relays publish in (tests); empty in a real system. */
  namespace?: string;
  checkIntervalMs?: number;
  batchSize?: number;
  /** The definition of the read models new projection versions get; default the newest (ADR 0341). */
  definition?: Definition;
}

/**
 * The service's composition root. Where the module consumes queues through the inbox, the service
 * reads the history stream (ADR 0110) into versioned read models (ADR 0341): it owns no business data, so it
 * needs neither the module's queues nor two-way sync, and both sides can count the same events.
 */
export function defineAnalyticsService(parts: ServiceParts, options: AnalyticsServiceOptions): ServiceDefinition {
  const projections = startProjections({
    knex: parts.knex,
    logger: parts.logger.child({ component: 'projections' }),
    url: options.url,
    stream: names(options.namespace).history,
    checkIntervalMs: options.checkIntervalMs,
    batchSize: options.batchSize,
    definition: options.definition,
  });
  const readLive: ReadLive = (read) =>
    parts.knex.transaction(async (trx) => {
      const live = await liveProjection(trx, ANALYTICS_SCHEMA);
      // Only before the service's first start has created version 1.
      if (!live) throw new Error('no live analytics projection version');
      return read({ knex: trx, store: analyticsRepository(live.schema, (live.definition ?? 1) as Definition) });
    });
  return {
    name: SERVICE_NAME,
    domain: 'analytics',
    schemas: [analyticsSchema],
    router: analyticsRouter({ readLive, verifier: parts.verifier }),
    start: () => projections.start(),
    stop: () => projections.stop(),
  };
}

/** For tests and embedding: the service on a given database, served wherever the caller serves it. */
export function buildAnalyticsService(deps: { knex: Knex; logger: Logger; jwksUrl?: string; verifier?: TokenVerifier }, options: AnalyticsServiceOptions) {
  return buildService({ ...deps, name: SERVICE_NAME }, (parts) => defineAnalyticsService(parts, options));
}
