import { Router } from 'express';
import { routedWrite } from '@banyan/routing-client';
import type { Module, ModuleContext } from '../../kernel';
import { PAYMENTS_SCHEMA, migrations } from './data/migrations';
import { paymentsRepository } from './data/repository';
import { testCardProcessor, type CardProcessor, type ChargeRequest, type ChargeResult } from './domain/card-processor';
import { cancelCharge } from './domain/cancel-charge';
import { chargePayment } from './domain/charge-payment';
import type { PaymentsDeps } from './domain/deps';
import type { CancelOutcome, ChargeInput, ChargeOutcome, RefundOutcome } from './domain/payment';
import { refundPayment } from './domain/refund-payment';
import { paymentEvents } from './events/publish';
import { paymentSyncSubscriptions } from './events/sync';
import { internalPaymentsRouter } from './http/internal-routes';
import { paymentsRouter } from './http/routes';
import { paymentsServiceClient } from './remote/service-client';

export { testCardProcessor };
export type { CardProcessor, ChargeRequest, ChargeResult, ChargeInput, ChargeOutcome, RefundOutcome, CancelOutcome };

/**
 * The payments module's door. Network-shaped on purpose (no transaction parameter, plain data
 * in and out): while the domain is extracted it is an HTTP client of the payments service.
 */
export interface PaymentsApi {
  /**
   * Charge once per order: a repeated call returns the first result. Throws SERVICE.UNAVAILABLE
   * (503) when the processor or the payments service cannot be reached; calling again later is safe.
   */
  charge(input: ChargeInput): Promise<ChargeOutcome>;
  /** Refund the order's captured payment (idempotent). Throws PAYMENTS.NOT_FOUND, PAYMENTS.NOT_REFUNDABLE, SERVICE.UNAVAILABLE. */
  refund(orderId: string): Promise<RefundOutcome>;
  /**
   * Make sure the order's card is not charged, whatever an earlier charge call did (one whose
   * answer never arrived): refunds a capture, closes a claim left pending with the processor.
   * Idempotent. Throws SERVICE.UNAVAILABLE (503) when the processor or service cannot be reached.
   */
  cancelCharge(orderId: string): Promise<CancelOutcome>;
}

export function createPaymentsModule(
  ctx: ModuleContext,
  options: { cardProcessor: CardProcessor },
): Module<PaymentsApi> & { remote: ReturnType<typeof paymentsServiceClient> } {
  const deps: PaymentsDeps = { repo: paymentsRepository, knex: ctx.knex, events: paymentEvents(ctx.outbox), processor: options.cardProcessor };
  const remote = paymentsServiceClient({
    url: ctx.config.PAYMENTS_SERVICE_URL,
    token: ctx.config.PAYMENTS_SERVICE_TOKEN,
    timeoutMs: ctx.config.PAYMENTS_TIMEOUT_MS,
    breakerThreshold: ctx.config.PAYMENTS_BREAKER_THRESHOLD,
    breakerResetMs: ctx.config.PAYMENTS_BREAKER_RESET_MS,
    logger: ctx.logger,
  });
  // Asked per call, so a switch at the gateway takes effect on the next checkout. The call waits
  // while a switch's fence is up and is counted in flight until it answers, so the gateway's fence
  // also waits for it (ADR 0303, third amendment).
  const api: PaymentsApi = {
    charge: (input) => routedWrite(ctx.routing, 'payments', { monolith: () => chargePayment(deps, input), extracted: () => remote.charge(input) }),
    refund: (orderId) => routedWrite(ctx.routing, 'payments', { monolith: () => refundPayment(deps, orderId), extracted: () => remote.refund(orderId) }),
    cancelCharge: (orderId) => routedWrite(ctx.routing, 'payments', { monolith: () => cancelCharge(deps, orderId), extracted: () => remote.cancelCharge(orderId) }),
  };
  return {
    name: 'payments',
    schema: { schema: PAYMENTS_SCHEMA, migrations },
    // The door over HTTP for the extracted orders service (ADR 0314), then the contract's routes.
    router: Router().use(internalPaymentsRouter(api, ctx.config.PAYMENTS_SERVICE_TOKEN)).use(paymentsRouter(deps, ctx.verifier)),
    subscriptions: [],
    syncSubscriptions: paymentSyncSubscriptions({ consumer: 'payments-sync', from: 'payments-service' }),
    api,
    remote,
    async stop() {
      remote.breaker.shutdown();
    },
  };
}
