import type { TableSyncSpec } from '@banyan/sync';

/**
 * Products moved with its schema: the same table and columns on both sides. The timestamps are left
 * out on purpose: each side stamps its own clock when it applies a change, so they differ without
 * the data differing.
 */
export const productsTables: TableSyncSpec[] = [
  {
    source: 'products.products',
    target: 'products.products',
    key: 'id',
    columns: ['id', 'sku', 'name', 'description', 'price_cents', 'stock'],
    version: 'version',
    aggregateType: 'products',
  },
];
