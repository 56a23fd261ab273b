import { withTransaction } from '@banyan/db';
import type { PaymentsDeps } from './deps';
import { PaymentErrors, type RefundOutcome } from './payment';

/** Refund an order's captured payment; refunding an already refunded one is a no-op. */
export async function refundPayment(deps: PaymentsDeps, orderId: string): Promise<RefundOutcome> {
  const payment = await deps.repo.byOrder(deps.knex, orderId);
  if (!payment) throw PaymentErrors.notFound();
  if (payment.status === 'refunded') return { paymentId: payment.id, status: 'refunded' };
  if (payment.status !== 'captured') throw PaymentErrors.notRefundable(payment.status);

  try {
    await deps.processor.refund({
      reference: payment.processorReference!,
      amountCents: payment.amountCents,
      idempotencyKey: `refund:${orderId}`,
    });
  } catch {
    throw PaymentErrors.processorUnavailable();
  }

  await withTransaction(deps.knex, async (trx) => {
    const refunded = await deps.repo.transition(trx, payment.id, 'captured', 'refunded');
    if (refunded) await deps.repo.stamp(trx, refunded.id, (await deps.events.refunded(trx, refunded)).sequence);
  });
  return { paymentId: payment.id, status: 'refunded' };
}
