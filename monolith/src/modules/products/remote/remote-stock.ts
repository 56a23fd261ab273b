import type { Knex } from '@banyan/db';
import { withTransaction } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import { remoteReservationsRepository as ledger } from '../data/remote-reservations';
import type { ReservedItem, StockItem } from '../domain/product';
import { mergeItems } from '../domain/reserve-stock';
import type { ProductsServiceClient } from './service-client';

/** Older than this, an open ledger row whose transaction is over is settled by the sweep. */
const STALE_AFTER_MS = 5_000;

/**
 * The products door's stock calls while products is extracted: the service takes and gives back
 * stock in its own database, and the monolith's table follows from the service's events. The
 * order's transaction still decides (docs/adr/0302-stock-reservations-across-the-split.md):
 *
 * - reserve: a ledger row `reserving` is committed first, the caller's transaction moves it to
 *   `reserved` (and holds its lock), then the service reserves. If that transaction does not
 *   commit, the reservation is cancelled at the service right away; if this process dies first,
 *   the sweep finds the row still `reserving` and cancels it.
 * - release: the caller's transaction records `releasing`; only once it commits is the stock
 *   given back (never for an order whose change rolled back), and the sweep retries a release
 *   the service did not take.
 */
export function remoteStock(deps: { knex: Knex; client: ProductsServiceClient; logger: Logger }) {
  const { knex, client, logger } = deps;

  const cancel = async (orderId: string) => {
    await client.cancel(orderId);
    await ledger.move(knex, orderId, 'reserving', 'cancelled');
  };
  const release = async (orderId: string, items: StockItem[]) => {
    await client.release(orderId, items);
    await ledger.move(knex, orderId, 'releasing', 'released');
  };
  const later = (what: string, orderId: string) => (err: Error) =>
    logger.warn({ orderId, err: err.message }, `${what} at the products service failed; the sweep retries it`);

  return {
    async reserve(trx: Knex.Transaction, orderId: string, items: StockItem[]): Promise<ReservedItem[]> {
      const merged = mergeItems(items);
      await ledger.open(knex, orderId, merged);
      await ledger.set(trx, orderId, 'reserved');
      // Attached before the call: whatever ends the transaction without a commit (this call's
      // failure, a later step of the order) cancels what the service may have taken.
      trx.executionPromise.then(
        () => undefined,
        () => cancel(orderId).catch(later('cancelling a reservation', orderId)),
      );
      return client.reserve(orderId, merged);
    },

    /** `settled` is called once the release is over: given back after the commit (or left to the sweep), or never due after a rollback. */
    async release(trx: Knex.Transaction, orderId: string, items: StockItem[], settled: () => void = () => undefined): Promise<void> {
      const merged = mergeItems(items);
      // Attached first: if recording fails, the transaction rolls back and the release is over.
      trx.executionPromise.then(
        () => release(orderId, merged).catch(later('releasing stock', orderId)).finally(settled),
        settled,
      );
      await ledger.set(trx, orderId, 'releasing', merged);
    },

    /** Settle what a failed call or a crash left open: cancel dead reservations, retry owed releases. */
    async sweep(limit = 20): Promise<number> {
      return withTransaction(knex, async (trx) => {
        const rows = await ledger.claimStale(trx, STALE_AFTER_MS, limit);
        let settled = 0;
        for (const row of rows) {
          try {
            if (row.state === 'reserving') await client.cancel(row.orderId);
            else await client.release(row.orderId, row.items);
          } catch (err) {
            later(row.state === 'reserving' ? 'cancelling a reservation' : 'releasing stock', row.orderId)(err as Error);
            continue;
          }
          await ledger.move(trx, row.orderId, row.state, row.state === 'reserving' ? 'cancelled' : 'released');
          settled++;
        }
        return settled;
      });
    },
  };
}

export type RemoteStock = ReturnType<typeof remoteStock>;
