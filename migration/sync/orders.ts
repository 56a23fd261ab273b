import type { Knex } from '@banyan/db';
import type { SyncRow, TableSyncSpec } from '@banyan/sync';

/**
 * Orders moved with their schema (ADR 0314): the same tables on both sides. Only orders that
 * happened for everyone are copied and compared: `confirmed`, `payment_declined`, `cancelled`,
 * the statuses order events report. A `pending` order is a checkout still running, and a
 * `payment_failed` one never happened (no event, its stock released, its charge cancelled); both
 * stay on the side that took them. `payment_id` is left out: a declined order's payment is not in
 * its events. `updated_at` and `reconciled_at` are each side's own.
 */
const REPORTED = ['confirmed', 'payment_declined', 'cancelled'];

const orders: TableSyncSpec = {
  source: 'orders.orders',
  target: 'orders.orders',
  key: 'id',
  columns: ['id', 'user_id', 'customer_email', 'status', 'total_cents', 'created_at', 'version'],
  version: 'version',
  aggregateType: 'orders',
  batch: (db: Knex, _side, afterKey, limit): Promise<SyncRow[]> =>
    db('orders.orders')
      .whereIn('status', REPORTED)
      .modify((q) => (afterKey === null ? q : q.where('id', '>', afterKey)))
      .orderBy('id')
      .limit(limit)
      .select(orders.columns),
};

/** An order's lines, keyed `<order id>:<line>`; lines never change, so their version stays 0. */
const lines: TableSyncSpec = {
  source: 'orders.order_items',
  target: 'orders.order_items',
  key: 'item_key',
  columns: ['item_key', 'order_id', 'line', 'product_id', 'quantity', 'price_cents', 'version'],
  version: 'version',
  batch: (db: Knex, _side, afterKey, limit): Promise<SyncRow[]> =>
    db('orders.order_items AS i')
      .join('orders.orders AS o', 'o.id', 'i.order_id')
      .whereIn('o.status', REPORTED)
      .modify((q) => (afterKey === null ? q : q.where('i.item_key', '>', afterKey)))
      .orderBy('i.item_key')
      .limit(limit)
      .select(lines.columns.map((c) => `i.${c}`)),
};

/** Parents before children: a line's order must exist before the line is copied. */
export const ordersTables: TableSyncSpec[] = [orders, lines];
