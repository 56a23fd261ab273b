import { setTimeout as sleep } from 'node:timers/promises';
import { withTransaction } from '@banyan/db';
import type { OrdersDeps } from './deps';
import type { Order } from './order';

/** A confirm that fails (the database) is tried this often in the request; the sweep goes on after. */
const CONFIRM_TRIES = 3;

/**
 * After the pivot: confirm the order and publish it, then close the saga, in one transaction.
 * Retried until done (here a few times, then by the sweep), never compensated: the card is charged.
 */
export async function confirmCharged(deps: OrdersDeps, orderId: string, paymentId: string): Promise<Order> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(deps.knex, async (trx) => {
        const confirmed = await deps.repo.transition(trx, orderId, 'pending', 'confirmed', paymentId);
        if (confirmed) {
          await deps.events.created(trx, confirmed);
          await deps.events.confirmed(trx, confirmed, paymentId);
        }
        await deps.sagas.move(trx, orderId, 'confirming', 'done', { outcome: 'confirmed' });
        // Undefined: another run of this step confirmed it first.
        const order = confirmed ?? (await deps.repo.find(trx, orderId));
        if (!order) throw new Error(`order ${orderId} of a charged saga is missing`);
        return order;
      });
    } catch (err) {
      if (attempt >= CONFIRM_TRIES) {
        await deps.sagas.failedAttempt(deps.knex, orderId, String(err)).catch(() => undefined);
        throw err;
      }
      await sleep(100 * attempt);
    }
  }
}

/**
 * Run the compensations a saga still owes, in their order, each idempotent by order id at the
 * far side: `stock` cancels the reservation at products (it also stops one still on its way),
 * `charge` makes sure the card is not charged (payments refunds a capture, or cancels with the
 * processor under the charge's key). One that fails stays owed for the sweep; true when none is left.
 */
export async function compensate(deps: OrdersDeps, orderId: string): Promise<boolean> {
  const saga = await deps.sagas.find(deps.knex, orderId);
  if (!saga || saga.state !== 'compensating') return saga?.state === 'done';
  for (const step of saga.compensations) {
    try {
      if (step === 'stock') await deps.products.cancelReservation(orderId);
      else await deps.payments.cancelCharge(orderId);
    } catch (err) {
      await deps.sagas.failedAttempt(deps.knex, orderId, `${step}: ${String(err)}`);
      return false;
    }
    await deps.sagas.compensated(deps.knex, orderId, step);
  }
  return deps.sagas.move(deps.knex, orderId, 'compensating', 'done');
}

