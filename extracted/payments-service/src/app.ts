import { testCardProcessor, type CardProcessor } from '@banyan/card-processor';
import type { TokenVerifier } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import { buildService, type ServiceDefinition, type ServiceParts } from '@banyan/service-kit';
import type { Logger } from '@banyan/telemetry';
import { PAYMENTS_SCHEMA, migrations } from './data/migrations';
import { paymentsRepository } from './data/repository';
import type { PaymentsDeps } from './domain/deps';
import { paymentEvents } from './events/publish';
import { paymentSyncSubscriptions } from './events/sync';
import { paymentsRouter } from './http/routes';

/** The outbox origin of this service's events; the monolith's payments sync applies these. */
export const SERVICE_NAME = 'payments-service';

export interface PaymentsServiceOptions {
  /** The card processor (a third party); the test-card fake by default. */
  cardProcessor?: CardProcessor;
  /** The credential the monolith's door must present at POST /charges, /refunds and /cancellations (PAYMENTS_SERVICE_TOKEN). */
  callerToken?: string;
}

/** The service's composition root, the counterpart of the module's `createPaymentsModule`. */
export function paymentsDefinition(parts: ServiceParts, options: PaymentsServiceOptions): ServiceDefinition {
  const deps: PaymentsDeps = { repo: paymentsRepository, knex: parts.knex, events: paymentEvents(parts.outbox), processor: options.cardProcessor ?? testCardProcessor() };
  return {
    name: SERVICE_NAME,
    domain: 'payments',
    schemas: [{ schema: PAYMENTS_SCHEMA, migrations }],
    router: paymentsRouter(deps, parts.verifier, options.callerToken),
    // Keeps this database current with payments the monolith handles (before the switch, or after a switch back).
    subscriptions: paymentSyncSubscriptions({ consumer: 'payments-service-sync', from: 'monolith' }),
  };
}

/** Build the service without listening (tests serve it on port 0). */
export function buildPaymentsService(
  deps: { knex: Knex; logger: Logger; jwksUrl?: string; verifier?: TokenVerifier },
  options: PaymentsServiceOptions = {},
) {
  return buildService({ ...deps, name: SERVICE_NAME }, (parts) => paymentsDefinition(parts, options));
}
