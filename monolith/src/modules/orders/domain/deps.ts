import type { Knex } from '@banyan/db';
import type { IdempotencyKeys } from '../data/idempotency-keys';
import type { OrdersRepository } from '../data/repository';
import type { PaymentsApi } from '../../payments';
import type { ProductsApi } from '../../products';
import type { OrderEvents } from '../events/publish';

/** What the orders use cases need; the door (index.ts) wires it, and domain/ never imports data/ itself. */
export interface OrdersDeps {
  knex: Knex;
  repo: OrdersRepository;
  keys: IdempotencyKeys;
  events: OrderEvents;
  products: ProductsApi;
  payments: PaymentsApi;
}
