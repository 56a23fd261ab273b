import { withTransaction } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import type { OrdersDeps } from './deps';
import { compensate, confirmCharged } from './saga-steps';
import type { Saga } from '../data/sagas';

export interface SweepReport {
  confirmed: number;
  compensated: number;
  /** Sagas whose step failed again (a door still down); left for the next sweep. */
  retrying: number;
  released: number;
}

/**
 * Finish or undo every saga nobody is running (its process died, or a step's door was down):
 * run at start and every ORDERS_SAGA_SWEEP_MS over sagas untouched for ORDERS_SAGA_STALE_MS.
 * - `reserving`: the stock may have been taken; cancel the reservation.
 * - `charging`: the charge's answer was never recorded, and the card is not stored, so it cannot
 *   be asked again: fail the order first (compare-and-set: a checkout still alive cannot confirm
 *   it after this) and undo both steps, as ADR 0312's reconciler does for the monolith.
 * - `confirming`: the capture is recorded; confirm, never undo.
 * - `compensating`: run what is still owed.
 * Also gives back the stock of cancelled orders that products did not take at the time.
 */
export async function sweepSagas(deps: OrdersDeps, logger: Logger, options: { staleMs: number; batchSize: number }): Promise<SweepReport> {
  const report: SweepReport = { confirmed: 0, compensated: 0, retrying: 0, released: 0 };
  for (const saga of await deps.sagas.claimStale(deps.knex, options.staleMs, options.batchSize)) {
    try {
      if (await resume(deps, saga)) report[saga.state === 'confirming' ? 'confirmed' : 'compensated'] += 1;
      else report.retrying += 1;
    } catch (err) {
      report.retrying += 1;
      logger.warn({ orderId: saga.orderId, state: saga.state, err }, 'checkout saga: step failed again; retrying on the next sweep');
    }
  }
  for (const owed of await deps.releases.owed(deps.knex, options.staleMs, options.batchSize)) {
    try {
      await deps.products.release(owed.orderId, owed.items.map(({ productId, quantity }) => ({ productId, quantity })));
      await deps.releases.settled(deps.knex, owed.orderId);
      report.released += 1;
    } catch (err) {
      logger.warn({ orderId: owed.orderId, err }, 'cancelled order: stock not given back yet; retrying on the next sweep');
    }
  }
  return report;
}

async function resume(deps: OrdersDeps, saga: Saga): Promise<boolean> {
  switch (saga.state) {
    case 'confirming':
      await confirmCharged(deps, saga.orderId, saga.paymentId!);
      return true;
    case 'reserving':
      await deps.sagas.move(deps.knex, saga.orderId, 'reserving', 'compensating', { outcome: 'failed', compensations: ['stock'] });
      return compensate(deps, saga.orderId);
    case 'charging':
      await withTransaction(deps.knex, async (trx) => {
        if (!(await deps.sagas.move(trx, saga.orderId, 'charging', 'compensating', { outcome: 'failed', compensations: ['stock', 'charge'] }))) return;
        await deps.repo.transition(trx, saga.orderId, 'pending', 'payment_failed');
      });
      return compensate(deps, saga.orderId);
    case 'compensating':
      return compensate(deps, saga.orderId);
    default:
      return true;
  }
}
