import type { GatewayConfig } from './config';

/** The contract's domains; each owns the prefix `/api/<domain>`. */
export const DOMAINS = ['users', 'products', 'orders', 'payments', 'notifications', 'analytics'] as const;
export type Domain = (typeof DOMAINS)[number];
export const isDomain = (value: string): value is Domain => (DOMAINS as readonly string[]).includes(value);

/**
 * Paths under a domain's prefix that only the system's own processes call: what a monolith door
 * called in-process before extraction, now an HTTP API of the service (stock reservations, ADR
 * 0302; charges, refunds and cancellations, ADR 0311). Each is the first segment after
 * `/api/<domain>/` and covers everything below it; every domain's `internal` segment is one too,
 * for the next such API. The gateway answers 404 for them before routing, in every mode: they are
 * no part of the public API, so a leaked or guessed caller credential is still no way in from
 * outside, and the callers reach the services directly, never through the public port.
 */
export const INTERNAL_SEGMENTS: Record<Domain, readonly string[]> = {
  users: ['internal'],
  products: ['internal', 'reservations', 'releases'],
  orders: ['internal'],
  payments: ['internal', 'charges', 'refunds', 'cancellations'],
  notifications: ['internal'],
  analytics: ['internal'],
};

export type Side = 'monolith' | 'extracted';
export const MODES = ['monolith', 'extracted', 'canary', 'shadow'] as const;
export type Mode = (typeof MODES)[number];

/**
 * How shadow responses of a domain are compared. Paths are JSON pointers in which `*` stands
 * for any key or array index.
 */
export interface CompareRules {
  /** Fields whose values legitimately differ between the two sides. */
  ignore: string[];
  /** Arrays whose order carries no meaning, compared as multisets. */
  unordered: string[];
}

/**
 * Defaults that follow from the contract: cursors are opaque (each side may encode its own),
 * and an order's lines have no defined order. Everything else must match exactly; widen these
 * only for a documented reason, or the comparison stops proving anything.
 */
export const DEFAULT_COMPARE_RULES: Record<Domain, CompareRules> = {
  users: { ignore: [], unordered: [] },
  products: { ignore: ['/nextCursor'], unordered: [] },
  orders: { ignore: ['/nextCursor'], unordered: ['/items', '/items/*/items'] },
  payments: { ignore: ['/nextCursor'], unordered: [] },
  notifications: { ignore: ['/nextCursor'], unordered: [] },
  analytics: { ignore: [], unordered: [] },
};

export function serviceUrls(config: GatewayConfig): Record<Domain, string> {
  return {
    users: config.USERS_SERVICE_URL,
    products: config.PRODUCTS_SERVICE_URL,
    orders: config.ORDERS_SERVICE_URL,
    payments: config.PAYMENTS_SERVICE_URL,
    notifications: config.NOTIFICATIONS_SERVICE_URL,
    analytics: config.ANALYTICS_SERVICE_URL,
  };
}
