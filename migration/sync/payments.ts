import type { TableSyncSpec } from '@banyan/sync';

/**
 * Payments moved with its schema: the same table and columns on both sides. Timestamps are left
 * out: each side stamps its own clock when it applies a change. `pending` rows are copied too
 * (version 0): they are claims whose processor answer is not known yet, and the side that gets
 * the answer replaces them (keyed by order, ADR 0311).
 */
export const paymentsTables: TableSyncSpec[] = [
  {
    source: 'payments.payments',
    target: 'payments.payments',
    key: 'id',
    columns: ['id', 'order_id', 'user_id', 'amount_cents', 'status', 'decline_reason', 'processor_reference', 'card_last4', 'version'],
    version: 'version',
    aggregateType: 'payments',
  },
];
