import type { Knex } from '@banyan/db';
import type { PaymentEvents } from '../events/publish';
import type { CardProcessor } from './card-processor';

export interface PaymentsDeps {
  knex: Knex;
  events: PaymentEvents;
  processor: CardProcessor;
}
