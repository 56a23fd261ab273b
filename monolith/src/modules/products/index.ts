import type { Knex } from '@banyan/db';
import type { Module, ModuleContext } from '../../kernel';
import { PRODUCTS_SCHEMA, migrations } from './data/migrations';
import { productsRepository as repo } from './data/repository';
import { createProduct } from './domain/create-product';
import type { ProductsDeps } from './domain/deps';
import type { NewProduct, Product, ReservedItem, StockItem } from './domain/product';
import { releaseStock } from './domain/release-stock';
import { reserveStock } from './domain/reserve-stock';
import { seedDemoCatalog } from './domain/seed-demo-catalog';
import { productEvents } from './events/publish';
import { productSyncSubscriptions } from './events/sync';
import { productsRouter } from './http/routes';

export type { NewProduct, Product, ReservedItem, StockItem };

/** The products module's door for other modules. */
export interface ProductsApi {
  getProducts(ids: string[]): Promise<Product[]>;
  /**
   * Take stock for an order in the caller's transaction; returns each (merged) line with its
   * unit price. Throws PRODUCTS.NOT_FOUND or PRODUCTS.INSUFFICIENT_STOCK, taking nothing.
   */
  reserveStock(trx: Knex.Transaction, orderId: string, items: StockItem[]): Promise<ReservedItem[]>;
  releaseStock(trx: Knex.Transaction, orderId: string, items: StockItem[]): Promise<void>;
  createProduct(input: NewProduct): Promise<Product>;
  /** Fill an empty catalog with demo products; returns how many were created (0 if not empty). */
  seedDemoCatalog(): Promise<number>;
}

export function createProductsModule(ctx: ModuleContext): Module<ProductsApi> {
  const deps: ProductsDeps = { knex: ctx.knex, events: productEvents(ctx.outbox) };
  return {
    name: 'products',
    schema: { schema: PRODUCTS_SCHEMA, migrations },
    router: productsRouter(deps, ctx.verifier),
    subscriptions: [],
    // The service's changes while it served products; its writes win a version tie because
    // while it is extracted it is where writes belong.
    syncSubscriptions: productSyncSubscriptions({ consumer: 'products-sync', from: 'products-service', fromWinsTies: true }),
    api: {
      getProducts: (ids) => repo.findMany(deps.knex, ids),
      reserveStock: (trx, orderId, items) => reserveStock(deps, trx, orderId, items),
      releaseStock: (trx, orderId, items) => releaseStock(deps, trx, orderId, items),
      createProduct: (input) => createProduct(deps, input),
      seedDemoCatalog: () => seedDemoCatalog(deps),
    },
  };
}
