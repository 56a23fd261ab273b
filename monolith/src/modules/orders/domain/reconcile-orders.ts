import { withTransaction } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import type { OrdersDeps } from './deps';
import type { Order } from './order';

export interface ReconcileReport {
  /** Orders found holding no money, now marked reconciled. */
  reconciled: number;
  /** Of those, orders whose charge had gone through and was refunded. */
  refunded: number;
  /** `pending` orders nobody settled, failed here and their stock released. */
  abandoned: number;
  /** Orders left for the next pass (payments unreachable); their error is logged. */
  retrying: number;
}

/**
 * One pass of the orders reconciler. Checkout tells a customer whose payment call failed that
 * the order was not charged (`SERVICE.UNAVAILABLE`, order `payment_failed`). That holds only if
 * someone makes it true when the call failed after the card was charged (the answer was lost to
 * a timeout, or the process died between charge and settle). This pass does, for every order
 * left in `payment_failed` or `pending` longer than `olderThanMs`:
 * 1. a `pending` order is failed first (compare-and-set, stock released), so a checkout that is
 *    somehow still running cannot confirm it afterwards;
 * 2. the payments door's `cancelCharge` makes sure the card is not charged (refund, or a
 *    technical cancel with the processor), idempotent, remote while payments is extracted;
 * 3. the order is marked reconciled, with the payment it settled.
 * A failure at 2 leaves the order for the next pass. Safe with several monolith instances: every
 * step is a compare-and-set or idempotent by order id.
 */
export async function reconcileOrders(deps: OrdersDeps, logger: Logger, options: { olderThanMs: number; batchSize: number }): Promise<ReconcileReport> {
  const report: ReconcileReport = { reconciled: 0, refunded: 0, abandoned: 0, retrying: 0 };
  for (const order of await deps.repo.toReconcile(deps.knex, options.olderThanMs, options.batchSize)) {
    if (order.status === 'pending') {
      if (!(await abandon(deps, order))) continue; // it was settled meanwhile
      report.abandoned += 1;
    }
    let outcome;
    try {
      outcome = await deps.payments.cancelCharge(order.id);
    } catch (err) {
      report.retrying += 1;
      logger.warn({ orderId: order.id, err }, 'order reconciler: could not settle the payment of a failed order; retrying on the next pass');
      continue;
    }
    await deps.repo.markReconciled(deps.knex, order.id, 'paymentId' in outcome ? outcome.paymentId : undefined);
    report.reconciled += 1;
    if (outcome.status === 'refunded') {
      report.refunded += 1;
      logger.warn(
        { orderId: order.id, paymentId: 'paymentId' in outcome ? outcome.paymentId : undefined },
        'order reconciler: a failed order had been charged; the charge is refunded',
      );
    }
  }
  return report;
}

/** Fail a `pending` order nobody settled; false when it was no longer pending. */
function abandon(deps: OrdersDeps, order: Order): Promise<boolean> {
  return withTransaction(deps.knex, async (trx) => {
    const failed = await deps.repo.transition(trx, order.id, 'pending', 'payment_failed');
    if (!failed) return false;
    await deps.products.releaseStock(trx, order.id, failed.items);
    return true;
  });
}
