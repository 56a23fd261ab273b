import type { GatewayConfig } from './config';

/** The contract's domains; each owns the prefix `/api/<domain>`. */
export const DOMAINS = ['users', 'products', 'orders', 'payments', 'notifications', 'analytics'] as const;
export type Domain = (typeof DOMAINS)[number];
export const isDomain = (value: string): value is Domain => (DOMAINS as readonly string[]).includes(value);

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
