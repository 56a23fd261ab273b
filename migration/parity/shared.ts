import type { Step } from '@banyan/parity';

export const APPROVED_CARD = '4242424242424242';
export const DECLINED_CARD = '4000000000000002';
/** A uuid (v7-shaped) that names nothing: an unknown id, as opposed to one that is not an id. */
export const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000';

/**
 * Every scenario that buys something first stocks its own product, so it never depends on the
 * catalog the target happens to hold (nor competes with other runs for its stock).
 */
export const stockProduct = (capture: string, priceCents = 1250, stock = 10): Step => ({
  name: `an admin stocks product ${capture}`,
  method: 'POST',
  path: '/api/products',
  as: 'admin',
  body: { sku: `parity-{{run}}-${capture}`, name: `Parity ${capture}`, description: 'Stocked by a parity scenario.', priceCents, stock },
  capture: { [capture]: 'body.id' },
  expect: { status: 201 },
});

export const placeOrder = (as: string, productId: string, quantity: number, card: string, capture?: string): Step => ({
  name: `${as} orders ${quantity} of ${productId} with card ${card}`,
  method: 'POST',
  path: '/api/orders',
  as,
  body: { items: [{ productId: `{{${productId}}}`, quantity }], card: { number: card } },
  ...(capture ? { capture: { [capture]: 'body.id' } } : {}),
});

/** Notification subjects carry the order's short reference (the tail of its id), unique per run. */
export const ORDER_REF = { pattern: '#[0-9A-F]{8}\\b', as: '#<order-ref>' };
