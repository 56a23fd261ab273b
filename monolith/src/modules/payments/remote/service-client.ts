import { AppError } from '@banyan/errors';
import type { Logger } from '@banyan/telemetry';
import type { CancelOutcome, ChargeInput, ChargeOutcome, RefundOutcome } from '../domain/payment';
import { createBreaker } from '@banyan/http-client';

export interface PaymentsServiceOptions {
  url: string;
  /** The door's own credential at the service's internal API, PAYMENTS_SERVICE_TOKEN (ADR 0311); never the admin token. */
  token?: string;
  timeoutMs: number;
  breakerThreshold: number;
  breakerResetMs: number;
  logger: Logger;
}

/** A failure of the call itself (down, slow, refused our credential): counts toward opening the breaker. */
class RemoteFailure extends Error {}

/**
 * The payments door as an HTTP client of the extracted payments service. Idempotency holds
 * across the network because the service keys each charge, refund and cancellation by order id: a call retried
 * after a timeout (whose first attempt may have charged the card) gets the first answer back.
 */
export function paymentsServiceClient(options: PaymentsServiceOptions) {
  const base = options.url.replace(/\/$/, '');

  const post = async (path: 'charges' | 'refunds' | 'cancellations', body: unknown): Promise<unknown> => {
    // The service would answer 401; saying why here is what the operator needs to read.
    if (!options.token) throw new RemoteFailure(`POST ${path}: PAYMENTS_SERVICE_TOKEN is not set, and the payments service refuses a door without its credential`);
    let res: Response;
    try {
      res = await fetch(`${base}/api/payments/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      throw new RemoteFailure(`POST ${path}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (err as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text);
    // 401/403: our credential is wrong, a configuration problem no retry by the customer fixes
    // but which must not look like the customer's fault either; 5xx: the service is in trouble.
    if (res.status >= 500 || res.status === 401 || res.status === 403) throw new RemoteFailure(`POST ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    const problem = safeJson(text);
    throw new AppError(String(problem.code ?? 'PAYMENTS.ERROR'), res.status, String(problem.detail ?? 'The payments service refused the call.'), extras(problem));
  };

  // One breaker for both calls: they fail together when the service is down.
  const guarded = createBreaker(post, {
    name: 'payments-service',
    threshold: options.breakerThreshold,
    resetMs: options.breakerResetMs,
    logger: options.logger,
  });

  return {
    breaker: guarded.breaker,
    charge: (input: ChargeInput) => guarded.fire('charges', input) as Promise<ChargeOutcome>,
    refund: (orderId: string) => guarded.fire('refunds', { orderId }) as Promise<RefundOutcome>,
    cancelCharge: (orderId: string) => guarded.fire('cancellations', { orderId }) as Promise<CancelOutcome>,
  };
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The problem's extra members (e.g. `status` of PAYMENTS.NOT_REFUNDABLE), without RFC 9457's own. */
function extras(problem: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, title: _title, status: _status, code: _code, detail: _detail, instance: _instance, ...rest } = problem;
  return rest;
}
