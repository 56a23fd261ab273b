import type { Knex } from '@banyan/db';
import type { PaymentsRepository } from '../data/repository';
import type { PaymentEvents } from '../events/publish';
import type { CardProcessor } from './card-processor';

/** What the payments use cases need; the composition root wires it, and domain/ never imports data/ itself. */
export interface PaymentsDeps {
  knex: Knex;
  repo: PaymentsRepository;
  events: PaymentEvents;
  processor: CardProcessor;
}
