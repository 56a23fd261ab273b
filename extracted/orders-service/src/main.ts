import { hostname } from 'node:os';
import { staticRoutes, watchRoutes } from '@banyan/routing-client';
import { runService } from '@banyan/service-kit';
import { ordersDefinition, SERVICE_NAME } from './app';
import { loadOrdersServiceConfig, type OrdersServiceConfig } from './config';

void runService(SERVICE_NAME, loadOrdersServiceConfig, (parts, config) => {
  const c = config as OrdersServiceConfig;
  const routing = c.BANYAN_ADMIN_TOKEN
    ? watchRoutes({
        adminUrl: c.GATEWAY_ADMIN_URL,
        token: c.BANYAN_ADMIN_TOKEN,
        // The saga's stock and payment calls are writes this process routes: the gateway's switch
        // fence waits for them as for its own (ADR 0303).
        followerId: `orders-service-${hostname().replace(/[^\w.-]/g, '_').slice(0, 60)}-${process.pid}`,
        onError: (err) => parts.logger.debug({ err: err.message }, 'gateway routing table not readable; keeping the last known'),
      })
    : staticRoutes();
  return ordersDefinition(parts, {
    routing,
    products: { url: c.PRODUCTS_SERVICE_URL, monolithUrl: c.MONOLITH_URL, token: c.PRODUCTS_SERVICE_TOKEN, timeoutMs: c.PRODUCTS_TIMEOUT_MS, breakerThreshold: c.PRODUCTS_BREAKER_THRESHOLD, breakerResetMs: c.PRODUCTS_BREAKER_RESET_MS },
    payments: { url: c.PAYMENTS_SERVICE_URL, monolithUrl: c.MONOLITH_URL, token: c.PAYMENTS_SERVICE_TOKEN, timeoutMs: c.PAYMENTS_TIMEOUT_MS, breakerThreshold: c.PAYMENTS_BREAKER_THRESHOLD, breakerResetMs: c.PAYMENTS_BREAKER_RESET_MS },
    sweepMs: c.ORDERS_SAGA_SWEEP_MS,
    staleMs: c.ORDERS_SAGA_STALE_MS,
  });
});
