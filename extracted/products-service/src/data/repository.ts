import type { Knex } from '@banyan/db';
import type { NewProduct, Product, ProductChanges } from '../domain/product';

const TABLE = 'products.products';

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_cents: number;
  stock: number;
}

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  description: row.description,
  priceCents: row.price_cents,
  stock: row.stock,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const COLUMNS = ['id', 'sku', 'name', 'description', 'price_cents', 'stock'];

/** The only place with products SQL. Every function takes the caller's connection or transaction. */
export const productsRepository = {
  async insert(db: Knex | Knex.Transaction, id: string, p: NewProduct): Promise<Product> {
    const [row] = await db(TABLE)
      .insert({ id, sku: p.sku, name: p.name, description: p.description, price_cents: p.priceCents, stock: p.stock })
      .returning(COLUMNS);
    return toProduct(row);
  },

  async update(trx: Knex.Transaction, id: string, changes: ProductChanges): Promise<Product | undefined> {
    const patch: Record<string, unknown> = { updated_at: trx.fn.now() };
    if (changes.sku !== undefined) patch.sku = changes.sku;
    if (changes.name !== undefined) patch.name = changes.name;
    if (changes.description !== undefined) patch.description = changes.description;
    if (changes.priceCents !== undefined) patch.price_cents = changes.priceCents;
    const [row] = await trx(TABLE).where({ id }).update(patch).returning(COLUMNS);
    return row ? toProduct(row) : undefined;
  },

  async find(db: Knex | Knex.Transaction, id: string): Promise<Product | undefined> {
    const row = await db(TABLE).where({ id }).first(COLUMNS);
    return row ? toProduct(row) : undefined;
  },

  async findMany(db: Knex, ids: string[]): Promise<Product[]> {
    // A malformed id would make PostgreSQL reject the whole query; it simply matches nothing.
    const valid = ids.filter((id) => UUID.test(id));
    if (valid.length === 0) return [];
    const rows = await db(TABLE).whereIn('id', valid).orderBy('id').select(COLUMNS);
    return rows.map(toProduct);
  },

  /** One page ordered by id (uuid v7, so roughly by creation), fetching one extra row to know if more exist. */
  async page(db: Knex, limit: number, afterId?: string): Promise<{ items: Product[]; hasMore: boolean }> {
    const rows = await db(TABLE)
      .modify((q) => (afterId ? q.where('id', '>', afterId) : q))
      .orderBy('id')
      .limit(limit + 1)
      .select(COLUMNS);
    return { items: rows.slice(0, limit).map(toProduct), hasMore: rows.length > limit };
  },

  async count(db: Knex | Knex.Transaction): Promise<number> {
    const [{ count }] = await db(TABLE).count<{ count: string }[]>('* as count');
    return Number(count);
  },

  /**
   * Add `delta` to the stock only if the result stays within [0, max]. The condition is checked
   * by the UPDATE itself, under the row lock, so concurrent orders can never oversell: a second
   * writer waits for the first, then re-evaluates the WHERE against the committed stock.
   */
  async changeStock(trx: Knex.Transaction, id: string, delta: number, max: number): Promise<Product | undefined> {
    const [row] = await trx(TABLE)
      .where({ id })
      .andWhereRaw('stock + ? BETWEEN 0 AND ?', [delta, max])
      .update({ stock: trx.raw('stock + ?', [delta]), updated_at: trx.fn.now() })
      .returning(COLUMNS);
    return row ? toProduct(row) : undefined;
  },
};

/** A product as another side reported it (an event's data), at that side's version. */
export interface ReplicaProduct {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
}

/**
 * Two-way sync during extraction. Each write is conditional on the stored version being older
 * than the incoming one, so redelivered, reordered or echoed events change nothing.
 */
export const replicaRepository = {
  /** Stamp the version of the event the caller just wrote for this product. */
  async setVersion(trx: Knex.Transaction, id: string, version: number): Promise<void> {
    await trx(TABLE).where({ id }).update({ version });
  },

  /**
   * Insert or overwrite the whole product if `version` is newer (or equal, when `winsTie`: two
   * sides numbered concurrent writes alike and both must settle on the same one); true if applied.
   */
  async upsertIfNewer(trx: Knex.Transaction, p: ReplicaProduct, version: number, winsTie = false): Promise<boolean> {
    const { rowCount } = await trx.raw(
      `INSERT INTO ${TABLE} AS t (id, sku, name, description, price_cents, stock, version)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, name = EXCLUDED.name, description = EXCLUDED.description,
         price_cents = EXCLUDED.price_cents, stock = EXCLUDED.stock, version = EXCLUDED.version, updated_at = now()
       WHERE t.version < EXCLUDED.version OR (? AND t.version = EXCLUDED.version)`,
      [p.id, p.sku, p.name, p.description, p.priceCents, p.stock, version, winsTie],
    );
    return rowCount > 0;
  },

  /**
   * Set the stock another side reported if `version` is newer. Undefined when the product is not
   * here yet (its product.created is still on its way on another queue): the caller retries.
   */
  async setStockIfNewer(trx: Knex.Transaction, id: string, stock: number, version: number, winsTie = false): Promise<boolean | undefined> {
    const updated = await trx(TABLE)
      .where({ id })
      .andWhere('version', winsTie ? '<=' : '<', version)
      .update({ stock, version, updated_at: trx.fn.now() });
    if (updated > 0) return true;
    return (await trx(TABLE).where({ id }).first('id')) ? false : undefined;
  },
};

/** PostgreSQL's unique_violation on the SKU constraint. */
export const isSkuConflict = (err: unknown) =>
  (err as { code?: string; constraint?: string }).code === '23505' &&
  (err as { constraint?: string }).constraint === 'products_sku_unique';

/** What the use cases get through their dependencies (domain/ never imports data/ itself). */
export type ProductsRepository = typeof productsRepository & { isSkuConflict: typeof isSkuConflict };
