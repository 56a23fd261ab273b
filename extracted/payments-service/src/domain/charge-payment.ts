import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '@banyan/db';
import type { PaymentsDeps } from './deps';
import { PaymentErrors, type ChargeInput, type ChargeOutcome, type Payment } from './payment';

const outcomeOf = (p: Payment): ChargeOutcome =>
  p.status === 'declined'
    ? { paymentId: p.id, status: 'declined', reason: p.declineReason ?? 'declined' }
    : // A refunded payment had been captured: a repeated charge answers with that first result.
      { paymentId: p.id, status: 'captured' };

/**
 * Charge an order's card at most once. The order's row is claimed first (unique by order id),
 * then the processor is asked under a key derived from the order, then the answer is recorded
 * with its event. A repeated call finds the recorded answer; a call that finds the claim still
 * pending (the processor did not answer last time) asks again under the same key, and the
 * processor's idempotency guarantees the card is not charged twice.
 */
export async function chargePayment(deps: PaymentsDeps, input: ChargeInput): Promise<ChargeOutcome> {
  const cardNumber = input.card.number.replace(/\s+/g, '');
  // The pending claim is bookkeeping, not a fact anyone subscribes to: its event comes with the answer.
  const claimed =
    (await deps.repo.insertPending(deps.knex, {
      id: uuidv7(),
      orderId: input.orderId,
      userId: input.userId,
      amountCents: input.amountCents,
      cardLast4: cardNumber.slice(-4),
    })) ?? (await deps.repo.byOrder(deps.knex, input.orderId));
  if (!claimed) throw new Error(`payment for order ${input.orderId} neither inserted nor found`);
  if (claimed.status !== 'pending') return outcomeOf(claimed);

  let answer;
  try {
    answer = await deps.processor.charge({ amountCents: claimed.amountCents, cardNumber, idempotencyKey: `charge:${claimed.orderId}` });
  } catch {
    throw PaymentErrors.processorUnavailable();
  }

  const recorded = await withTransaction(deps.knex, async (trx) => {
    const payment = answer.approved
      ? await deps.repo.transition(trx, claimed.id, 'pending', 'captured', { processorReference: answer.reference })
      : await deps.repo.transition(trx, claimed.id, 'pending', 'declined', { declineReason: answer.declineReason ?? 'declined' });
    if (payment) {
      const event = await (payment.status === 'captured' ? deps.events.captured : deps.events.declined)(trx, payment);
      await deps.repo.stamp(trx, payment.id, event.sequence);
    }
    return payment;
  });
  // Undefined: a concurrent call for the same order recorded the (same) answer first.
  return outcomeOf(recorded ?? (await deps.repo.byOrder(deps.knex, input.orderId))!);
}
