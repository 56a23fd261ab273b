import { withTransaction } from '@banyan/db';
import type { PaymentsDeps } from './deps';
import { PaymentErrors, type CancelOutcome } from './payment';
import { refundPayment } from './refund-payment';

/**
 * Make sure an order's card ends up not charged, for an order that failed without knowing what
 * its charge did (the payments call timed out, or the process died between charge and settle).
 * Safe to repeat, and the answer says what was found:
 * - no payment: the charge never reached payments (`none`);
 * - declined or refunded: nothing to undo;
 * - captured: refunded, as a refund through the door would;
 * - still pending (the processor was asked and its answer never recorded): the processor is
 *   told to cancel whatever it did under the order's key. A charge that went through is
 *   recorded as captured and then refunded (both events, so every ledger reading them adds up);
 *   one that did not is closed as declined `cancelled`, and the processor refuses the key from
 *   then on, so a request still on its way cannot charge the card later.
 */
export async function cancelCharge(deps: PaymentsDeps, orderId: string): Promise<CancelOutcome> {
  const payment = await deps.repo.byOrder(deps.knex, orderId);
  if (!payment) return { status: 'none' };
  if (payment.status === 'declined' || payment.status === 'refunded') return { paymentId: payment.id, status: payment.status };
  if (payment.status === 'captured') return refundPayment(deps, orderId);

  let answer;
  try {
    answer = await deps.processor.cancel({ idempotencyKey: `charge:${orderId}` });
  } catch {
    throw PaymentErrors.processorUnavailable();
  }

  await withTransaction(deps.knex, async (trx) => {
    if (answer.wasCharged) {
      const captured = await deps.repo.transition(trx, payment.id, 'pending', 'captured', { processorReference: answer.reference });
      if (!captured) return; // a concurrent call recorded the answer first
      await deps.events.captured(trx, captured);
      const refunded = await deps.repo.transition(trx, payment.id, 'captured', 'refunded');
      await deps.repo.stamp(trx, payment.id, (await deps.events.refunded(trx, refunded!)).sequence);
    } else {
      const declined = await deps.repo.transition(trx, payment.id, 'pending', 'declined', { declineReason: 'cancelled' });
      if (declined) await deps.repo.stamp(trx, payment.id, (await deps.events.declined(trx, declined)).sequence);
    }
  });
  // Read back rather than trust this call's own writes: a concurrent charge may have recorded a
  // (captured) answer first, which the second pass then refunds.
  const settled = (await deps.repo.byOrder(deps.knex, orderId))!;
  if (settled.status === 'pending') throw new Error(`payment for order ${orderId} still pending after its cancel was recorded`);
  return settled.status === 'captured' ? refundPayment(deps, orderId) : { paymentId: settled.id, status: settled.status };
}
