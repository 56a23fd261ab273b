import { createBreaker, jsonPoster, RemoteFailure } from '@banyan/http-client';
import type { Logger } from '@banyan/telemetry';
import type { CancelOutcome, ChargeInput, ChargeOutcome, RefundOutcome } from '../domain/payment';

export interface PaymentsServiceOptions {
  url: string;
  /** The door's own credential at the service's internal API, PAYMENTS_SERVICE_TOKEN (ADR 0311); never the admin token. */
  token?: string;
  timeoutMs: number;
  breakerThreshold: number;
  breakerResetMs: number;
  logger: Logger;
}

/**
 * The payments door as an HTTP client of the extracted payments service. Idempotency holds
 * across the network because the service keys each charge, refund and cancellation by order id: a call retried
 * after a timeout (whose first attempt may have charged the card) gets the first answer back.
 */
export function paymentsServiceClient(options: PaymentsServiceOptions) {
  const token = async () => {
    // The service would answer 401; saying why here is what the operator needs to read. A
    // RemoteFailure, so it counts toward opening the breaker like any call that cannot succeed.
    if (!options.token) throw new RemoteFailure('PAYMENTS_SERVICE_TOKEN is not set, and the payments service refuses a door without its credential');
    return options.token;
  };
  const post = jsonPoster({ url: options.url, timeoutMs: options.timeoutMs, token, fallbackCode: 'PAYMENTS.ERROR' });
  // One breaker for every call: they fail together when the service is down.
  const guarded = createBreaker(post, {
    name: 'payments-service',
    threshold: options.breakerThreshold,
    resetMs: options.breakerResetMs,
    logger: options.logger,
  });

  return {
    breaker: guarded.breaker,
    charge: (input: ChargeInput) => guarded.fire('/api/payments/charges', input) as Promise<ChargeOutcome>,
    refund: (orderId: string) => guarded.fire('/api/payments/refunds', { orderId }) as Promise<RefundOutcome>,
    cancelCharge: (orderId: string) => guarded.fire('/api/payments/cancellations', { orderId }) as Promise<CancelOutcome>,
  };
}
