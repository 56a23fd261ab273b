import { AppError } from '@banyan/errors';

/** `pending` is internal: the processor was asked and has not answered (or could not be reached). */
export type PaymentStatus = 'pending' | 'captured' | 'declined' | 'refunded';

export interface Payment {
  id: string;
  orderId: string;
  userId: string;
  amountCents: number;
  status: PaymentStatus;
  declineReason: string | null;
  processorReference: string | null;
  cardLast4: string;
}

export interface ChargeInput {
  orderId: string;
  userId: string;
  amountCents: number;
  card: { number: string };
}

export interface ChargeOutcome {
  paymentId: string;
  status: 'captured' | 'declined';
  reason?: string;
}

export interface RefundOutcome {
  paymentId: string;
  status: 'refunded';
}

/** What cancelling an order's charge found: no payment at all, or a payment that now takes no money. */
export type CancelOutcome = { status: 'none' } | { paymentId: string; status: 'declined' | 'refunded' };

/** The public shape of the contract. */
export const toView = (p: Payment) => ({ id: p.id, orderId: p.orderId, amountCents: p.amountCents, status: p.status });

export const PaymentErrors = {
  notFound: () => new AppError('PAYMENTS.NOT_FOUND', 404, 'No payment with that id.'),
  processorUnavailable: () =>
    new AppError('SERVICE.UNAVAILABLE', 503, 'The card processor cannot be reached; try again shortly.', { retryAfter: 5 }),
  notRefundable: (status: PaymentStatus) =>
    new AppError('PAYMENTS.NOT_REFUNDABLE', 409, `A ${status} payment cannot be refunded.`, { status }),
};
