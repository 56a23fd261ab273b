import { withTransaction } from '@banyan/db';
import type { ProductsDeps } from './deps';
import { releaseStock } from './release-stock';

/**
 * Undo a reservation whose order its caller never recorded (its transaction rolled back, or the
 * reservation's answer never came). If the reservation has not arrived yet, a `cancelled` row
 * stands in for it so that a late arrival takes nothing: the compensation may overtake the call
 * it compensates.
 */
export function cancelReservation(deps: ProductsDeps, orderId: string): Promise<void> {
  return withTransaction(deps.knex, async (trx) => {
    if (await deps.reservations.claim(trx, orderId, 'cancelled', [])) return;
    const existing = await deps.reservations.lock(trx, orderId);
    if (existing.state !== 'reserved') return;
    await releaseStock(deps, trx, orderId, existing.items);
    await deps.reservations.set(trx, orderId, 'cancelled');
  });
}
