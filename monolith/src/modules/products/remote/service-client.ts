import { createBreaker, jsonPoster } from '@banyan/http-client';
import type { Logger } from '@banyan/telemetry';
import type { ReservedItem, StockItem } from '../domain/product';

export interface ProductsServiceOptions {
  url: string;
  timeoutMs: number;
  breakerThreshold: number;
  breakerResetMs: number;
  /** A `service` token from the users door; renewed before it expires. */
  issueToken: () => Promise<{ token: string; expiresAt: number }>;
  logger: Logger;
}

/** Renew this long before expiry, so a token never expires on its way to the service. */
const RENEW_BEFORE_MS = 60_000;

/**
 * The products service's internal stock API. Every call is keyed by order id on the service's
 * side, so repeating one whose answer was lost (a timeout) is always safe.
 */
export function productsServiceClient(options: ProductsServiceOptions) {
  let current: { token: string; expiresAt: number } | undefined;
  const token = async () => {
    if (!current || current.expiresAt - Date.now() < RENEW_BEFORE_MS) current = await options.issueToken();
    return current.token;
  };
  const post = jsonPoster({ url: options.url, timeoutMs: options.timeoutMs, token, fallbackCode: 'PRODUCTS.ERROR' });
  // One breaker for every call: they fail together when the service is down.
  const guarded = createBreaker(post, {
    name: 'products-service',
    threshold: options.breakerThreshold,
    resetMs: options.breakerResetMs,
    logger: options.logger,
  });

  return {
    breaker: guarded.breaker,
    async reserve(orderId: string, items: StockItem[]): Promise<ReservedItem[]> {
      const answer = (await guarded.fire('/api/products/reservations', { orderId, items })) as { items: ReservedItem[] };
      return answer.items;
    },
    cancel: async (orderId: string) => void (await guarded.fire(`/api/products/reservations/${orderId}/cancel`, {})),
    release: async (orderId: string, items: StockItem[]) => void (await guarded.fire('/api/products/releases', { orderId, items })),
  };
}

export type ProductsServiceClient = ReturnType<typeof productsServiceClient>;
