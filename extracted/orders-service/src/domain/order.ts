import { AppError } from '@banyan/errors';

/**
 * `pending` (stock reserved, payment in flight) and `payment_failed` (the processor could not be
 * reached; stock released, payment outcome to be settled) are the module's own; the contract's
 * statuses are the other three.
 */
export type OrderStatus = 'pending' | 'confirmed' | 'payment_declined' | 'payment_failed' | 'cancelled';

export interface OrderItem {
  productId: string;
  quantity: number;
  priceCents: number;
}

export interface Order {
  id: string;
  userId: string;
  customerEmail: string;
  status: OrderStatus;
  totalCents: number;
  paymentId: string | null;
  items: OrderItem[];
  createdAt: string;
}

export interface OrderLine {
  productId: string;
  quantity: number;
}

/** The contract's order shape. */
export const toView = (o: Order) => ({
  id: o.id,
  userId: o.userId,
  status: o.status,
  totalCents: o.totalCents,
  items: o.items,
  createdAt: o.createdAt,
});

export const OrderErrors = {
  notFound: () => new AppError('ORDERS.NOT_FOUND', 404, 'No order with that id.'),
  idempotencyKeyReused: () =>
    new AppError('ORDERS.IDEMPOTENCY_KEY_REUSED', 422, 'This Idempotency-Key was used for a different order; use a new key for a new order.'),
  idempotencyKeyInFlight: () =>
    new AppError('ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT', 409, 'An order with this Idempotency-Key is still being placed; ask again in a moment for its answer.', { retryAfter: 1 }),
  notCancellable: (status: OrderStatus) =>
    new AppError('ORDERS.NOT_CANCELLABLE', 409, `Only confirmed orders can be cancelled; this one is ${status}.`, { status }),
  /** The products service could not be reached (or its breaker is open): nothing was charged. */
  productsUnavailable: () =>
    new AppError('SERVICE.UNAVAILABLE', 503, 'Products are unavailable; nothing was charged and no stock is held for this order. Try again shortly.', { retryAfter: 5 }),
  paymentDeclined: (orderId: string, reason: string) =>
    new AppError('PAYMENTS.DECLINED', 402, 'The card was declined.', { orderId, reason }),
  /**
   * Carries what the payments door knew: `circuit: 'open'` when its breaker refused the call at
   * once (and when it will probe again), `circuit: 'closed'` when the call was tried and failed.
   */
  paymentUnavailable: (orderId: string, cause?: unknown) => {
    const details = cause instanceof AppError ? cause.details : {};
    return new AppError('SERVICE.UNAVAILABLE', 503, 'Payments are unavailable; the order was not charged and its stock was released. Try again shortly.', {
      orderId,
      retryAfter: typeof details.retryAfter === 'number' ? details.retryAfter : 5,
      ...(details.circuit ? { circuit: details.circuit } : {}),
    });
  },
};
