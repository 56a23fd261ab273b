import { Router } from 'express';
import type { Knex } from '@banyan/db';
import { routedWrite } from '@banyan/routing-client';
import type { Module, ModuleContext } from '../../kernel';
import type { UsersApi } from '../users';
import { PRODUCTS_SCHEMA, migrations } from './data/migrations';
import { reservationMigrations } from './data/migrations-reservations';
import { remoteReservationMigrations } from './data/migrations-remote-reservations';
import { isSkuConflict, productsRepository as repo } from './data/repository';
import { reservationsRepository } from './data/reservations';
import { cancelReservation } from './domain/cancel-reservation';
import { createProduct } from './domain/create-product';
import type { ProductsDeps } from './domain/deps';
import type { NewProduct, Product, ReservedItem, StockItem } from './domain/product';
import { releaseOrderStock } from './domain/release-order-stock';
import { releaseStock } from './domain/release-stock';
import { reserveStock } from './domain/reserve-stock';
import { seedDemoCatalog } from './domain/seed-demo-catalog';
import { takeReservation } from './domain/take-reservation';
import { productEvents } from './events/publish';
import { productSyncSubscriptions } from './events/sync';
import { internalStockRouter, type StockDoor } from './http/internal-routes';
import { productsRouter } from './http/routes';
import { remoteStock } from './remote/remote-stock';
import { productsServiceClient } from './remote/service-client';

export type { NewProduct, Product, ReservedItem, StockItem };

/** The products module's door for other modules. */
export interface ProductsApi {
  getProducts(ids: string[]): Promise<Product[]>;
  /**
   * Take stock for an order in the caller's transaction; returns each (merged) line with its
   * unit price. Throws PRODUCTS.NOT_FOUND or PRODUCTS.INSUFFICIENT_STOCK, taking nothing, and
   * SERVICE.UNAVAILABLE (503) while products is extracted and its service cannot be reached.
   * Stock taken is given back if the caller's transaction does not commit.
   */
  reserveStock(trx: Knex.Transaction, orderId: string, items: StockItem[]): Promise<ReservedItem[]>;
  /** Give an order's stock back once the caller's transaction commits (at once when products is in the monolith). */
  releaseStock(trx: Knex.Transaction, orderId: string, items: StockItem[]): Promise<void>;
  createProduct(input: NewProduct): Promise<Product>;
  /** Fill an empty catalog with demo products; returns how many were created (0 if not empty). */
  seedDemoCatalog(): Promise<number>;
}

/** How often the door settles stock calls a failure or a crash left open (ADR 0302). */
const SWEEP_INTERVAL_MS = 5_000;

export function createProductsModule(
  ctx: ModuleContext,
  doors: { users: Pick<UsersApi, 'issueServiceToken'> },
): Module<ProductsApi> & { remote: ReturnType<typeof remoteStock> & { client: ReturnType<typeof productsServiceClient> } } {
  const deps: ProductsDeps = { knex: ctx.knex, repo: { ...repo, isSkuConflict }, reservations: reservationsRepository, events: productEvents(ctx.outbox) };
  const client = productsServiceClient({
    url: ctx.config.PRODUCTS_SERVICE_URL,
    timeoutMs: ctx.config.PRODUCTS_TIMEOUT_MS,
    breakerThreshold: ctx.config.PRODUCTS_BREAKER_THRESHOLD,
    breakerResetMs: ctx.config.PRODUCTS_BREAKER_RESET_MS,
    issueToken: () => doors.users.issueServiceToken('monolith:products'),
    logger: ctx.logger,
  });
  const remote = remoteStock({ knex: ctx.knex, client, logger: ctx.logger });
  // Asked per call: while products is extracted the service owns stock, and writing the
  // monolith's copy here too would make the two sides diverge. A stock call waits while a switch's
  // fence is up and counts in flight until the order's transaction has ended (for a release at the
  // service: until the call after the commit has answered), so the gateway's fence waits for it
  // as for its own writes (ADR 0303, third amendment).
  const stockWrite = async (trx: Knex.Transaction) => {
    const write = await ctx.routing.beginWrite('products');
    trx.executionPromise.then(write.done, write.done);
    return write;
  };
  // The stock door over HTTP for the extracted orders service (ADR 0314): each call on the side the
  // routing names when it arrives, counted in flight for the switch fence.
  const internalStock: StockDoor = {
    reserve: (orderId, items) => routedWrite(ctx.routing, 'products', { monolith: () => takeReservation(deps, orderId, items), extracted: () => client.reserve(orderId, items) }),
    cancel: (orderId) => routedWrite(ctx.routing, 'products', { monolith: () => cancelReservation(deps, orderId), extracted: () => client.cancel(orderId) }),
    release: (orderId, items) => routedWrite(ctx.routing, 'products', { monolith: () => releaseOrderStock(deps, orderId, items), extracted: () => client.release(orderId, items) }),
  };
  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> = Promise.resolve();
  return {
    name: 'products',
    schema: { schema: PRODUCTS_SCHEMA, migrations: [...migrations, ...remoteReservationMigrations, ...reservationMigrations] },
    router: Router().use(internalStockRouter(internalStock, ctx.verifier, ctx.config.PRODUCTS_SERVICE_TOKEN)).use(productsRouter(deps, ctx.verifier)),
    subscriptions: [],
    // The service's changes while it served products; its writes win a version tie because
    // while it is extracted it is where writes belong.
    syncSubscriptions: productSyncSubscriptions({ consumer: 'products-sync', from: 'products-service', fromWinsTies: true }),
    api: {
      getProducts: (ids) => repo.findMany(deps.knex, ids),
      reserveStock: async (trx, orderId, items) =>
        (await stockWrite(trx)).side === 'extracted' ? remote.reserve(trx, orderId, items) : reserveStock(deps, trx, orderId, items),
      async releaseStock(trx, orderId, items) {
        const write = await ctx.routing.beginWrite('products');
        if (write.side === 'extracted') return remote.release(trx, orderId, items, write.done);
        trx.executionPromise.then(write.done, write.done);
        return releaseStock(deps, trx, orderId, items);
      },
      createProduct: (input) => createProduct(deps, input),
      seedDemoCatalog: () => seedDemoCatalog(deps),
    },
    remote: { ...remote, client },
    async start() {
      // Whatever the routing: a reservation taken at the service is cancelled there even after a switch back.
      sweeper = setInterval(() => {
        sweeping = remote.sweep().catch((err: Error) => ctx.logger.warn({ err: err.message }, 'products ledger sweep failed'));
      }, SWEEP_INTERVAL_MS);
      sweeper.unref();
    },
    async stop() {
      clearInterval(sweeper);
      await sweeping;
      client.breaker.shutdown();
    },
  };
}
