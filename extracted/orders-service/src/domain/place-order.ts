import { v7 as uuidv7 } from 'uuid';
import type { Principal } from '@banyan/auth';
import { withSpan } from '@banyan/telemetry';
import { runCheckout, type PlaceOrderInput } from './checkout-saga';
import type { OrdersDeps } from './deps';
import type { Order } from './order';

export type { PlaceOrderInput };

/**
 * Checkout as an orchestrated saga (docs/adr/0314-checkout-saga-orchestrated.md): reserve stock
 * at products, charge at payments (the pivot), confirm here; each step recorded in the saga log
 * before it is taken, so a restarted process finishes or compensates it.
 */
export function placeOrder(deps: OrdersDeps, customer: Principal, input: PlaceOrderInput, orderId: string = uuidv7()): Promise<Order> {
  // The business span of checkout: which order, whose, how big. Errors are recorded on it.
  return withSpan('order.place', { 'order.id': orderId, 'user.id': customer.userId, 'items.count': input.items.length }, async (span) => {
    const order = await runCheckout(deps, customer, input, orderId);
    span.setAttributes({ 'order.status': order.status, 'order.total_cents': order.totalCents });
    return order;
  });
}
