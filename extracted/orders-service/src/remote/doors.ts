import { AppError, Errors } from '@banyan/errors';
import { createBreaker, jsonPoster, RemoteFailure } from '@banyan/http-client';
import type { RoutingView } from '@banyan/routing-client';
import type { Logger } from '@banyan/telemetry';
import type { OrderItem, OrderLine } from '../domain/order';

export interface DoorOptions {
  url: string;
  /** This service's credential at the other service's internal API; the call fails without it. */
  token?: string;
  timeoutMs: number;
  breakerThreshold: number;
  breakerResetMs: number;
}

/**
 * The call never left this process (no door on its domain's side, or its breaker is open),
 * so the far side did nothing that would need undoing.
 */
export const notSent = (err: unknown): boolean =>
  err instanceof AppError && (err.details.notSent === true || err.details.circuit === 'open');

export type ChargeOutcome = { paymentId: string; status: 'captured' } | { paymentId: string; status: 'declined'; reason: string };
export type CancelOutcome = { status: 'none' } | { paymentId: string; status: 'declined' | 'refunded' };

/** The products and payments doors the saga calls; every call is keyed by order id on the far side. */
export interface ProductsDoor {
  reserve(orderId: string, lines: OrderLine[]): Promise<OrderItem[]>;
  cancelReservation(orderId: string): Promise<void>;
  release(orderId: string, items: Array<{ productId: string; quantity: number }>): Promise<void>;
}
export interface PaymentsDoor {
  charge(input: { orderId: string; userId: string; amountCents: number; card: { number: string } }): Promise<ChargeOutcome>;
  refund(orderId: string): Promise<unknown>;
  cancelCharge(orderId: string): Promise<CancelOutcome>;
}

function guardedPoster(name: string, options: DoorOptions, logger: Logger, fallbackCode: string) {
  const token = async () => {
    // The service would answer 401; saying why here is what an operator needs to read.
    if (!options.token) throw new RemoteFailure(`no credential for ${name} is configured (its *_SERVICE_TOKEN)`);
    return options.token;
  };
  const post = jsonPoster({ url: options.url, timeoutMs: options.timeoutMs, token, fallbackCode });
  // One breaker per service: its calls fail together when it is down.
  return createBreaker(post, { name, threshold: options.breakerThreshold, resetMs: options.breakerResetMs, logger });
}

/**
 * Ask the routing table where `domain`'s writes go, count the call as a write in flight there
 * (the gateway's switch fence waits for it, ADR 0303), and call that side's door. The monolith
 * serves a door for payments (its internal routes); it has none to reserve stock for another
 * process (ADR 0314 says what it would take), so while products is the monolith's, checkout here
 * is unavailable.
 */
async function onSide<T>(routing: RoutingView, domain: string, calls: { extracted: () => Promise<T>; monolith?: () => Promise<T> }): Promise<T> {
  const ticket = await routing.beginWrite(domain);
  try {
    const call = ticket.side === 'extracted' ? calls.extracted : calls.monolith;
    if (!call) {
      const error = Errors.unavailable(`${domain} is served by the monolith, which has no door for the orders service; route ${domain} to its service first.`, 30);
      error.details.notSent = true;
      throw error;
    }
    return await call();
  } finally {
    ticket.done();
  }
}

export function productsDoor(routing: RoutingView, options: DoorOptions, logger: Logger): ProductsDoor & { breaker: unknown } {
  const guarded = guardedPoster('products-service', options, logger, 'PRODUCTS.ERROR');
  return {
    breaker: guarded.breaker,
    reserve: (orderId, lines) =>
      onSide(routing, 'products', { extracted: async () => ((await guarded.fire('/api/products/reservations', { orderId, items: lines })) as { items: OrderItem[] }).items }),
    cancelReservation: (orderId) => onSide(routing, 'products', { extracted: async () => void (await guarded.fire(`/api/products/reservations/${orderId}/cancel`, {})) }),
    release: (orderId, items) => onSide(routing, 'products', { extracted: async () => void (await guarded.fire('/api/products/releases', { orderId, items })) }),
  };
}

/** Payments at its service, or at the monolith's internal door (the same paths and credential) while payments is the monolith's. */
export function paymentsDoor(routing: RoutingView, options: DoorOptions & { monolithUrl: string }, logger: Logger): PaymentsDoor {
  const service = guardedPoster('payments-service', options, logger, 'PAYMENTS.ERROR');
  const monolith = guardedPoster('monolith-payments', { ...options, url: options.monolithUrl }, logger, 'PAYMENTS.ERROR');
  const post = <T>(path: string, body: unknown) => ({
    extracted: async () => (await service.fire(path, body)) as T,
    monolith: async () => (await monolith.fire(path, body)) as T,
  });
  return {
    charge: (input) => onSide(routing, 'payments', post<ChargeOutcome>('/api/payments/charges', input)),
    refund: (orderId) => onSide(routing, 'payments', post<unknown>('/api/payments/refunds', { orderId })),
    cancelCharge: (orderId) => onSide(routing, 'payments', post<CancelOutcome>('/api/payments/cancellations', { orderId })),
  };
}
