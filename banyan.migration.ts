import { notificationsSyncSpec, paymentsSyncSpec, productsSyncSpec } from '@banyan/cli';
import { defineMigration } from '@banyan/migration';
import { notificationScenarios, orderScenarios, paymentScenarios, productScenarios, userScenarios } from '@banyan/parity';

/**
 * The shop's migration: its six domains, each under `/api/<domain>`, served by the monolith or by
 * its extracted service. @banyan/migration validates this file; every Banyan tool reads it.
 *
 * Today it states exactly what the gateway and the CLI still hard-code (gateway/src/domains.ts,
 * gateway/src/config.ts, packages/parity/src/scenarios); backfill, verify and the gateway's
 * dashboard and switch fence already read their data specs from here (@banyan/sync's loadSyncSpec);
 * packages/migration/test/shop-declaration.test.ts fails when the two disagree. The next slices
 * switch the other tools over to this file and move the shop's data specs and scenarios out of
 * packages/ to live with the shop; until then they are imported from where they are.
 */

/** A domain's service: its port from the contract (3101 …), its URL variable and its own database. */
const service = (domain: string, port: number) => ({
  url: `http://127.0.0.1:${port}`,
  urlEnv: `${domain.toUpperCase()}_SERVICE_URL`,
  database: `banyan_${domain}`,
  databaseEnv: `${domain.toUpperCase()}_DATABASE`,
});

/**
 * The tables of a domain's sync spec. Its databases come from the targets above instead, so that
 * MONOLITH_DATABASE and `<DOMAIN>_DATABASE` override them as `banyan verify` does today.
 * The specs are still the CLI's files, imported as plain values (@banyan/sync, which reads this
 * declaration, never imports the CLI); they move out of packages/ with the shop in the next slice.
 */
const tablesOf = ({ tables }: typeof productsSyncSpec) => ({ tables });

/** Cursors are opaque: each side may encode its own (gateway/src/domains.ts's DEFAULT_COMPARE_RULES). */
const opaqueCursor = { ignore: ['/nextCursor'], unordered: [] };

export default defineMigration({
  name: 'Banyan shop',
  monolith: { url: 'http://127.0.0.1:3000', urlEnv: 'MONOLITH_URL', database: 'banyan_monolith', databaseEnv: 'MONOLITH_DATABASE' },
  domains: {
    users: {
      // Also serves the users domain's public keys, /api/users/.well-known/jwks.json, which every
      // other domain verifies tokens with: they route with users.
      prefixes: ['/api/users'],
      service: service('users', 3101),
      internal: ['internal'],
      parity: { scenarios: userScenarios },
    },
    products: {
      prefixes: ['/api/products'],
      service: service('products', 3102),
      compare: opaqueCursor,
      // Stock reservations and their releases, the orders side's door across the split (ADR 0302).
      internal: ['internal', 'reservations', 'releases'],
      data: tablesOf(productsSyncSpec),
      parity: { scenarios: productScenarios },
    },
    orders: {
      prefixes: ['/api/orders'],
      service: service('orders', 3103),
      // An order's lines, and the lines of each order in a list, have no defined order.
      compare: { ignore: ['/nextCursor'], unordered: ['/items', '/items/*/items'] },
      internal: ['internal'],
      parity: { scenarios: orderScenarios },
    },
    payments: {
      prefixes: ['/api/payments'],
      service: service('payments', 3104),
      compare: opaqueCursor,
      // Charges, refunds and cancellations: the payments door across the network (ADR 0311).
      internal: ['internal', 'charges', 'refunds', 'cancellations'],
      data: tablesOf(paymentsSyncSpec),
      parity: { scenarios: paymentScenarios },
    },
    notifications: {
      prefixes: ['/api/notifications'],
      service: service('notifications', 3105),
      compare: opaqueCursor,
      internal: ['internal'],
      data: tablesOf(notificationsSyncSpec),
      parity: { scenarios: notificationScenarios },
    },
    analytics: {
      prefixes: ['/api/analytics'],
      service: service('analytics', 3106),
      internal: ['internal'],
    },
  },
});
