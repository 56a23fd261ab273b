import type { Module, ModuleContext } from '../../kernel';
import { PAYMENTS_SCHEMA, migrations } from './data/migrations';
import { testCardProcessor, type CardProcessor, type ChargeRequest, type ChargeResult } from './domain/card-processor';
import { chargePayment } from './domain/charge-payment';
import type { PaymentsDeps } from './domain/deps';
import type { ChargeInput, ChargeOutcome, RefundOutcome } from './domain/payment';
import { refundPayment } from './domain/refund-payment';
import { paymentEvents } from './events/publish';
import { paymentsRouter } from './http/routes';

export { testCardProcessor };
export type { CardProcessor, ChargeRequest, ChargeResult, ChargeInput, ChargeOutcome, RefundOutcome };

/**
 * The payments module's door. Network-shaped on purpose (no transaction parameter, plain data
 * in and out): it will be swapped for an HTTP client of the extracted payments service.
 */
export interface PaymentsApi {
  /**
   * Charge once per order: a repeated call returns the first result. Throws SERVICE.UNAVAILABLE
   * (503) when the processor cannot be reached; calling again later is safe.
   */
  charge(input: ChargeInput): Promise<ChargeOutcome>;
  /** Refund the order's captured payment (idempotent). Throws PAYMENTS.NOT_FOUND, PAYMENTS.NOT_REFUNDABLE, SERVICE.UNAVAILABLE. */
  refund(orderId: string): Promise<RefundOutcome>;
}

export function createPaymentsModule(ctx: ModuleContext, options: { cardProcessor: CardProcessor }): Module<PaymentsApi> {
  const deps: PaymentsDeps = { knex: ctx.knex, events: paymentEvents(ctx.outbox), processor: options.cardProcessor };
  return {
    name: 'payments',
    schema: { schema: PAYMENTS_SCHEMA, migrations },
    router: paymentsRouter(deps, ctx.verifier),
    subscriptions: [],
    api: {
      charge: (input) => chargePayment(deps, input),
      refund: (orderId) => refundPayment(deps, orderId),
    },
  };
}
