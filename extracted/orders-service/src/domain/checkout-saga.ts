import type { Principal } from '@banyan/auth';
import { withTransaction } from '@banyan/db';
import { AppError } from '@banyan/errors';
import type { Compensation } from '../data/sagas';
import { notSent } from '../remote/doors';
import { compensate, confirmCharged } from './saga-steps';
import type { OrdersDeps } from './deps';
import { OrderErrors, type Order, type OrderItem, type OrderLine } from './order';

export interface PlaceOrderInput {
  items: OrderLine[];
  card: { number: string };
}

/** The far side answered (out of stock, unknown product): it did nothing, so there is nothing to undo. */
const refused = (err: unknown): err is AppError => err instanceof AppError && err.status < 500;

/**
 * One checkout, orchestrated (docs/adr/0314-checkout-saga-orchestrated.md). Each remote step is
 * recorded in the saga log before it is taken and is idempotent by order id on the far side:
 * 1. `reserving`: products takes the stock (all lines or none) and answers the prices;
 * 2. `charging`: the pending order is written, then payments charges the card: the pivot;
 * 3. `confirming`: the capture is recorded; from here the saga only goes forward.
 * Before the pivot a failure compensates in reverse order of need: the stock goes back at once,
 * and a charge whose answer is unknown is cancelled at payments (refunded if it went through).
 * A compensation that cannot run now is left in the log for the sweep (recover-sagas.ts).
 */
export async function runCheckout(deps: OrdersDeps, customer: Principal, input: PlaceOrderInput, orderId: string): Promise<Order> {
  await deps.sagas.begin(deps.knex, { orderId, userId: customer.userId, customerEmail: customer.email, lines: input.items });

  let items: OrderItem[];
  try {
    items = await deps.products.reserve(orderId, input.items);
  } catch (err) {
    if (refused(err) || notSent(err)) {
      await deps.sagas.move(deps.knex, orderId, 'reserving', 'done', { outcome: refused(err) ? 'rejected' : 'failed', error: (err as AppError).code });
      throw err;
    }
    // Unknown: the reservation may have been taken after our timeout. Cancelling it also stops
    // one still on its way (products records the cancel first, ADR 0302).
    if (await deps.sagas.move(deps.knex, orderId, 'reserving', 'compensating', { outcome: 'failed', compensations: ['stock'], error: String(err) })) {
      await compensate(deps, orderId);
    }
    throw err instanceof AppError ? err : OrderErrors.productsUnavailable();
  }

  const totalCents = items.reduce((sum, i) => sum + i.quantity * i.priceCents, 0);
  const pending = await withTransaction(deps.knex, async (trx) => {
    if (!(await deps.sagas.move(trx, orderId, 'reserving', 'charging', { compensations: ['stock'] }))) return undefined;
    return deps.repo.insert(trx, { id: orderId, userId: customer.userId, customerEmail: customer.email, status: 'pending', totalCents, items });
  });
  // The sweep took this checkout over (it outlived ORDERS_SAGA_STALE_MS) and is undoing it.
  if (!pending) throw OrderErrors.productsUnavailable();

  let payment;
  try {
    payment = await deps.payments.charge({ orderId, userId: customer.userId, amountCents: totalCents, card: input.card });
  } catch (err) {
    // A charge that never left this process has nothing to cancel at payments.
    await failBeforePivot(deps, pending, err, notSent(err) ? ['stock'] : ['stock', 'charge']);
    throw OrderErrors.paymentUnavailable(orderId, err);
  }

  if (payment.status === 'declined') {
    await withTransaction(deps.knex, async (trx) => {
      if (!(await deps.sagas.move(trx, orderId, 'charging', 'compensating', { outcome: 'declined', paymentId: payment.paymentId, compensations: ['stock'] }))) return;
      const declined = await deps.repo.transition(trx, orderId, 'pending', 'payment_declined', payment.paymentId);
      if (!declined) return;
      await deps.events.created(trx, declined);
      await deps.events.cancelled(trx, declined, 'payment_declined');
    });
    await compensate(deps, orderId);
    throw OrderErrors.paymentDeclined(orderId, payment.reason);
  }

  // The pivot: once this is recorded, the order is confirmed whatever happens to this process.
  if (!(await deps.sagas.move(deps.knex, orderId, 'charging', 'confirming', { paymentId: payment.paymentId }))) {
    // The sweep failed this checkout meanwhile and cancels its charge: the customer is told so.
    throw OrderErrors.paymentUnavailable(orderId);
  }
  return confirmCharged(deps, orderId, payment.paymentId);
}

/**
 * The charge failed (payments down, slow, breaker open, or on the monolith's side): fail the order
 * (so nothing can confirm it later) and undo the stock and, if the charge was sent, whatever it did.
 */
async function failBeforePivot(deps: OrdersDeps, pending: Order, cause: unknown, compensations: Compensation[]): Promise<void> {
  const moved = await withTransaction(deps.knex, async (trx) => {
    if (!(await deps.sagas.move(trx, pending.id, 'charging', 'compensating', { outcome: 'failed', compensations, error: String(cause) }))) return false;
    await deps.repo.transition(trx, pending.id, 'pending', 'payment_failed');
    return true;
  });
  if (moved) await compensate(deps, pending.id);
}
