import type { Knex } from '@banyan/db';
import type { ProductsRepository } from '../data/repository';
import type { ReservationsRepository } from '../data/reservations';
import type { ProductEvents } from '../events/publish';

/**
 * What the products use cases need: the database, the service's tables and its event publisher.
 * The composition root (app.ts) wires them; use cases never import data/ themselves (the
 * inner-module rule in .dependency-cruiser.cjs).
 */
export interface ProductsDeps {
  knex: Knex;
  repo: ProductsRepository;
  reservations: ReservationsRepository;
  events: ProductEvents;
}
