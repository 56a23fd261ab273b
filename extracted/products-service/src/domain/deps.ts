import type { Knex } from '@banyan/db';
import type { ProductEvents } from '../events/publish';

/** What the products use cases need: the database and the module's event publisher. */
export interface ProductsDeps {
  knex: Knex;
  events: ProductEvents;
}
