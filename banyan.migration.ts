import { defineMigration } from '@banyan/migration';
import { shopParityAuth } from './migration/parity/auth.ts';
import { notificationScenarios } from './migration/parity/notifications.ts';
import { orderScenarios } from './migration/parity/orders.ts';
import { paymentScenarios } from './migration/parity/payments.ts';
import { productScenarios } from './migration/parity/products.ts';
import { userScenarios } from './migration/parity/users.ts';
import { analyticsFigures } from './migration/sync/analytics.ts';
import { notificationsTables } from './migration/sync/notifications.ts';
import { ordersTables } from './migration/sync/orders.ts';
import { paymentsTables } from './migration/sync/payments.ts';
import { productsTables } from './migration/sync/products.ts';
import { usersTables } from './migration/sync/users.ts';

/**
 * The shop's migration: its six domains, each under `/api/<domain>`, served by the monolith or by
 * its extracted service. @banyan/migration validates this file; every Banyan tool reads it (the
 * CLI's commands, backfill and verify through @banyan/sync, the gateway's dashboard and fence).
 *
 * What only the shop knows lives beside it in migration/: the tables each domain's data moves in
 * (migration/sync/) and its contract scenarios (migration/parity/). Imports are relative with their
 * `.ts` extension, because a tool compiled to dist loads this file under plain Node 24, which strips
 * the types and resolves the rest as written. migration/test/shop-declaration.test.ts holds it
 * against what the gateway still hard-codes (gateway/src/domains.ts, gateway/src/config.ts).
 */

/**
 * A domain's service: its port from the contract (3101 …), its URL variable, its own database, and
 * how `banyan start` runs it: its workspace's build (a domain without one yet is skipped), told
 * where the users domain's keys are, through the gateway, so it follows wherever users is served.
 */
const service = (domain: string, port: number, secrets: string[] = []) => ({
  url: `http://127.0.0.1:${port}`,
  urlEnv: `${domain.toUpperCase()}_SERVICE_URL`,
  database: `banyan_${domain}`,
  databaseEnv: `${domain.toUpperCase()}_DATABASE`,
  start: { node: `extracted/${domain}-service/dist/main.js`, env: { USERS_JWKS_URL: '{gateway}/api/users/.well-known/jwks.json' }, secrets },
});

/** Cursors are opaque: each side may encode its own (gateway/src/domains.ts's DEFAULT_COMPARE_RULES). */
const opaqueCursor = { ignore: ['/nextCursor'], unordered: [] };

export default defineMigration({
  name: 'Banyan shop',
  monolith: { url: 'http://127.0.0.1:3000', urlEnv: 'MONOLITH_URL', database: 'banyan_monolith', databaseEnv: 'MONOLITH_DATABASE' },
  // How `banyan parity` logs the scenarios' admin and customers in: through the users domain.
  parity: { auth: shopParityAuth },
  domains: {
    users: {
      // Also serves the users domain's public keys, /api/users/.well-known/jwks.json, which every
      // other domain verifies tokens with: they route with users.
      prefixes: ['/api/users'],
      service: service('users', 3101),
      internal: ['internal'],
      // Accounts with their password hashes; the keys and throttle counts stay in one store (ADR 0333).
      data: { tables: usersTables },
      parity: { scenarios: userScenarios },
    },
    products: {
      prefixes: ['/api/products'],
      // The orders service's credential at the stock API (ADR 0314), shared with the orders service.
      service: service('products', 3102, ['PRODUCTS_SERVICE_TOKEN']),
      compare: opaqueCursor,
      // Stock reservations and their releases, the orders side's door across the split (ADR 0302).
      internal: ['internal', 'reservations', 'releases'],
      // The databases are the targets' above, so MONOLITH_DATABASE and PRODUCTS_DATABASE override them.
      data: { tables: productsTables },
      parity: { scenarios: productScenarios },
    },
    orders: {
      prefixes: ['/api/orders'],
      // Its checkout saga's credentials at the products and payments services (ADR 0314).
      service: service('orders', 3103, ['PRODUCTS_SERVICE_TOKEN', 'PAYMENTS_SERVICE_TOKEN']),
      // An order's lines, and the lines of each order in a list, have no defined order.
      compare: { ignore: ['/nextCursor'], unordered: ['/items', '/items/*/items'] },
      internal: ['internal'],
      // Orders and their lines that events report; checkouts still running or failed stay put (ADR 0314).
      data: { tables: ordersTables },
      parity: { scenarios: orderScenarios },
    },
    payments: {
      prefixes: ['/api/payments'],
      // The payments door's own credential at the service (ADR 0311), shared by the monolith and the service.
      service: service('payments', 3104, ['PAYMENTS_SERVICE_TOKEN']),
      compare: opaqueCursor,
      // Charges, refunds and cancellations: the payments door across the network (ADR 0311).
      internal: ['internal', 'charges', 'refunds', 'cancellations'],
      data: { tables: paymentsTables },
      parity: { scenarios: paymentScenarios },
    },
    notifications: {
      prefixes: ['/api/notifications'],
      service: service('notifications', 3105),
      compare: opaqueCursor,
      internal: ['internal'],
      data: { tables: notificationsTables },
      parity: { scenarios: notificationScenarios },
    },
    analytics: {
      prefixes: ['/api/analytics'],
      service: service('analytics', 3106),
      internal: ['internal'],
      // No tables to copy: the service's read models are rebuilt from the event history (ADR 0110).
      projection: { schema: 'analytics', sourceSchema: 'analytics', figures: analyticsFigures },
    },
  },
});
