import type { Knex } from '@banyan/db';
import type { PaymentsApi } from '../../payments';
import type { ProductsApi } from '../../products';
import type { OrderEvents } from '../events/publish';

export interface OrdersDeps {
  knex: Knex;
  events: OrderEvents;
  products: ProductsApi;
  payments: PaymentsApi;
}
