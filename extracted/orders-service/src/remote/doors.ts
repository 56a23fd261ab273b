import { AppError } from '@banyan/errors';
import { createBreaker, jsonPoster, RemoteFailure } from '@banyan/http-client';
import { routedWrite, type RoutingView } from '@banyan/routing-client';
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
 * The call never left this process (its breaker is open), so the far side did nothing that would
 * need undoing.
 */
export const notSent = (err: unknown): boolean => err instanceof AppError && err.details.circuit === 'open';

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

/** The same call to either side, for `routedWrite` to pick from. */
function bothSides(service: ReturnType<typeof guardedPoster>, monolith: ReturnType<typeof guardedPoster>) {
  return <T>(path: string, body: unknown) => ({
    extracted: async () => (await service.fire(path, body)) as T,
    monolith: async () => (await monolith.fire(path, body)) as T,
  });
}

/** Products' stock at its service, or at the monolith's internal door (the same paths and credential) while products is the monolith's. */
export function productsDoor(routing: RoutingView, options: DoorOptions & { monolithUrl: string }, logger: Logger): ProductsDoor {
  const service = guardedPoster('products-service', options, logger, 'PRODUCTS.ERROR');
  const monolith = guardedPoster('monolith-products', { ...options, url: options.monolithUrl }, logger, 'PRODUCTS.ERROR');
  const post = bothSides(service, monolith);
  return {
    reserve: async (orderId, lines) => (await routedWrite(routing, 'products', post<{ items: OrderItem[] }>('/api/products/reservations', { orderId, items: lines }))).items,
    cancelReservation: async (orderId) => void (await routedWrite(routing, 'products', post<unknown>(`/api/products/reservations/${orderId}/cancel`, {}))),
    release: async (orderId, items) => void (await routedWrite(routing, 'products', post<unknown>('/api/products/releases', { orderId, items }))),
  };
}

/** Payments at its service, or at the monolith's internal door (the same paths and credential) while payments is the monolith's. */
export function paymentsDoor(routing: RoutingView, options: DoorOptions & { monolithUrl: string }, logger: Logger): PaymentsDoor {
  const service = guardedPoster('payments-service', options, logger, 'PAYMENTS.ERROR');
  const monolith = guardedPoster('monolith-payments', { ...options, url: options.monolithUrl }, logger, 'PAYMENTS.ERROR');
  const post = bothSides(service, monolith);
  return {
    charge: (input) => routedWrite(routing, 'payments', post<ChargeOutcome>('/api/payments/charges', input)),
    refund: (orderId) => routedWrite(routing, 'payments', post<unknown>('/api/payments/refunds', { orderId })),
    cancelCharge: (orderId) => routedWrite(routing, 'payments', post<CancelOutcome>('/api/payments/cancellations', { orderId })),
  };
}
