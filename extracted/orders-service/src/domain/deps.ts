import type { Knex } from '@banyan/db';
import type { IdempotencyKeys } from '../data/idempotency-keys';
import type { OrdersRepository } from '../data/repository';
import type { SagaLog } from '../data/sagas';
import type { StockReleases } from '../data/stock-releases';
import type { OrderEvents } from '../events/publish';
import type { PaymentsDoor, ProductsDoor } from '../remote/doors';

/** What the orders use cases need; app.ts wires it, and domain/ never imports data/ itself. */
export interface OrdersDeps {
  knex: Knex;
  repo: OrdersRepository;
  keys: IdempotencyKeys;
  sagas: SagaLog;
  releases: StockReleases;
  events: OrderEvents;
  /** Where the module called the products and payments modules in-process, the service calls their doors over HTTP. */
  products: ProductsDoor;
  payments: PaymentsDoor;
}
