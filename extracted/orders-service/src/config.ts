import { z } from '@banyan/config';
import { loadServiceConfig, serviceEnv } from '@banyan/service-kit';

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * The contract's port for orders (3103), its own database, and the two doors its checkout saga
 * calls (docs/adr/0314-checkout-saga-orchestrated.md): each with its fetch timeout and breaker, as
 * the monolith's doors have (ADR 0302, 0311).
 */
export const ordersServiceEnv = {
  ...serviceEnv({ port: 3103, database: 'banyan_orders' }),
  /** Where products and payments are served is the gateway's routing table, read here (ADR 0303). */
  GATEWAY_ADMIN_URL: z.string().url().default('http://127.0.0.1:8081'),
  /** Reads the routing table; without it every domain counts as the monolith's and checkout answers 503. */
  BANYAN_ADMIN_TOKEN: z.string().min(16).optional(),
  PRODUCTS_SERVICE_URL: z.string().url().default('http://127.0.0.1:3102'),
  /** This service's credential at the products service's stock API and the monolith's (their PRODUCTS_SERVICE_TOKEN). */
  PRODUCTS_SERVICE_TOKEN: z.string().min(16).optional(),
  PRODUCTS_TIMEOUT_MS: ms(3000),
  PRODUCTS_BREAKER_THRESHOLD: ms(5),
  PRODUCTS_BREAKER_RESET_MS: ms(30_000),
  /** The monolith, whose internal stock and payments doors this service calls while products or payments is routed there. */
  MONOLITH_URL: z.string().url().default('http://127.0.0.1:3000'),
  PAYMENTS_SERVICE_URL: z.string().url().default('http://127.0.0.1:3104'),
  /** The payments door's credential at the payments service and at the monolith's door (ADR 0311, 0314). */
  PAYMENTS_SERVICE_TOKEN: z.string().min(16).optional(),
  PAYMENTS_TIMEOUT_MS: ms(3000),
  PAYMENTS_BREAKER_THRESHOLD: ms(5),
  PAYMENTS_BREAKER_RESET_MS: ms(30_000),
  /** How often unfinished sagas are looked for (besides once at start). */
  ORDERS_SAGA_SWEEP_MS: ms(5000),
  /**
   * A saga untouched this long is taken over by the sweep: longer than a live checkout's steps
   * (two calls of at most their timeouts). 0 takes every unfinished saga, which only a single
   * instance may do.
   */
  ORDERS_SAGA_STALE_MS: z.coerce.number().int().nonnegative().default(30_000),
};

export const loadOrdersServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadServiceConfig(ordersServiceEnv, env);

export type OrdersServiceConfig = ReturnType<typeof loadOrdersServiceConfig>;
