import type { Knex } from '@banyan/db';
import type { ProductsRepository } from '../data/repository';
import type { ReservationsRepository } from '../data/reservations';
import type { ProductEvents } from '../events/publish';

/**
 * What the products use cases need: the database, the module's tables and its event publisher.
 * The door (index.ts) wires them; use cases never import data/ themselves (the inner-module rule
 * in .dependency-cruiser.cjs), so the rows' shape stays one file's business.
 */
export interface ProductsDeps {
  knex: Knex;
  repo: ProductsRepository;
  /** Stock taken for the extracted orders service, keyed by order (ADR 0302's rules, ADR 0314). */
  reservations: ReservationsRepository;
  events: ProductEvents;
}
