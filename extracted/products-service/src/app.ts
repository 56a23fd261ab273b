import { Router } from 'express';
import { buildService, type ServiceParts, type ServiceDefinition } from '@banyan/service-kit';
import type { Knex } from '@banyan/db';
import type { TokenVerifier } from '@banyan/auth';
import type { Logger } from '@banyan/telemetry';
import { PRODUCTS_SCHEMA, migrations } from './data/migrations';
import { reservationMigrations } from './data/migrations-reservations';
import { isSkuConflict, productsRepository } from './data/repository';
import { reservationsRepository } from './data/reservations';
import type { ProductsDeps } from './domain/deps';
import { productEvents } from './events/publish';
import { productSyncSubscriptions } from './events/sync';
import { internalStockRouter } from './http/internal-routes';
import { productsRouter } from './http/routes';

export const SERVICE_NAME = 'products-service';

/**
 * The service's composition root: where the monolith's module got a ModuleContext, this gets
 * the service kit's parts (its own database, outbox, JWKS verifier). Everything below it is the
 * module's code, moved.
 */
export function defineProductsService(parts: ServiceParts, options: { callerToken?: string } = {}): ServiceDefinition {
  const deps: ProductsDeps = { knex: parts.knex, repo: { ...productsRepository, isSkuConflict }, reservations: reservationsRepository, events: productEvents(parts.outbox) };
  return {
    name: SERVICE_NAME,
    domain: 'products',
    schemas: [{ schema: PRODUCTS_SCHEMA, migrations: [...migrations, ...reservationMigrations] }],
    // The module's public routes, plus the stock calls the monolith's products door makes here
    // while the domain is extracted (what the module's door did in-process).
    router: Router().use(internalStockRouter(deps, parts.verifier, options.callerToken)).use(productsRouter(deps, parts.verifier)),
    // The monolith's writes (before the switch, after a switch back, and any in flight during
    // one) keep arriving as its events; the service applies them. A version tie goes to the
    // service's own write, as the module's sync decides too.
    subscriptions: productSyncSubscriptions({ consumer: 'products-service-sync', from: 'monolith', fromWinsTies: false }),
  };
}

/** For tests and embedding: the service on a given database, listening wherever the caller serves it. */
export function buildProductsService(deps: { knex: Knex; logger: Logger; jwksUrl?: string; verifier?: TokenVerifier }, options: { callerToken?: string } = {}) {
  return buildService({ ...deps, name: SERVICE_NAME }, (parts) => defineProductsService(parts, options));
}
