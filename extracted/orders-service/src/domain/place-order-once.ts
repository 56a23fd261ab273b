import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Principal } from '@banyan/auth';
import { AppError } from '@banyan/errors';
import type { KeyRecord } from '../data/idempotency-keys';
import type { OrdersDeps } from './deps';
import { OrderErrors, type Order } from './order';
import { placeOrder, type PlaceOrderInput } from './place-order';

/**
 * A key still `running` after this long belongs to a checkout that died (a checkout's every call
 * has a timeout of seconds): the order it numbered tells what became of it.
 */
export const RUNNING_STALE_MS = 120_000;

export type OnceOutcome = { replayed: boolean } & ({ order: Order } | { error: AppError });

/**
 * What a checkout means, for telling a retry from a different order under the same key: the
 * (merged) lines and the card's last four digits. Never the card number, not even hashed: a hash
 * of a 16-digit number with a known check digit can be searched. Two cards with the same last four
 * and the same lines count as the same request; the key's first answer stands for both.
 */
export function fingerprintOf(input: PlaceOrderInput): string {
  const meaning = { items: input.items.map((i) => [i.productId, i.quantity]), card: input.card.number.slice(-4) };
  return createHash('sha256').update(JSON.stringify(meaning)).digest('base64url');
}

/**
 * `POST /api/orders` with an `Idempotency-Key` (docs/adr/0313-idempotency-keys-on-checkout.md):
 * the first request with a key places the order; a retry with the same key and the same meaning
 * gets that order (or that decline) again and is never charged again; the same key with another
 * meaning is refused (422), and while the first is still running a retry is told so (409).
 *
 * Only an order the customer can act on is kept under the key: a confirmed one and a declined one.
 * A checkout that ended before any order counted (validation, stock, payments unavailable: its
 * order, if any, is `payment_failed` and its saga makes sure it took no money) gives the key
 * back, so retrying with the same key tries again, as those answers invite.
 */
export async function placeOrderOnce(deps: OrdersDeps, customer: Principal, input: PlaceOrderInput, key: string): Promise<OnceOutcome> {
  const fingerprint = fingerprintOf(input);
  for (let attempt = 0; attempt < 3; attempt++) {
    const orderId = uuidv7();
    const held = await deps.keys.claim(deps.knex, { userId: customer.userId, key, fingerprint, orderId });
    if (!held) return { replayed: false, ...(await placeUnder(deps, customer, input, key, orderId)) };
    if (held.fingerprint !== fingerprint) throw OrderErrors.idempotencyKeyReused();
    const answer = await replay(deps, customer, key, held);
    if (answer) return { replayed: true, ...answer };
    // A dead checkout's key was given back: claim it afresh.
  }
  throw OrderErrors.idempotencyKeyInFlight();
}

async function placeUnder(deps: OrdersDeps, customer: Principal, input: PlaceOrderInput, key: string, orderId: string): Promise<{ order: Order } | { error: AppError }> {
  try {
    const order = await placeOrder(deps, customer, input, orderId);
    await deps.keys.settle(deps.knex, customer.userId, key, 'placed');
    return { order };
  } catch (err) {
    if (err instanceof AppError && err.code === 'PAYMENTS.DECLINED') {
      await deps.keys.settle(deps.knex, customer.userId, key, 'declined', String(err.details.reason ?? 'declined'));
      return { error: err };
    }
    // The key goes back whatever else happened; if even that fails, it is answered 409 until
    // it is stale, and then settled from its order (replay below).
    await deps.keys.release(deps.knex, customer.userId, key, orderId).catch(() => undefined);
    throw err;
  }
}

/** What a key already holds, answered again; undefined when a dead checkout's key was given back. */
async function replay(deps: OrdersDeps, customer: Principal, key: string, held: KeyRecord): Promise<{ order: Order } | { error: AppError } | undefined> {
  if (held.state === 'declined') return { error: OrderErrors.paymentDeclined(held.orderId, held.declineReason ?? 'declined') };
  const order = await deps.repo.find(deps.knex, held.orderId);
  if (held.state === 'placed' && order) return { order };
  if (held.ageMs < RUNNING_STALE_MS) throw OrderErrors.idempotencyKeyInFlight();
  // Stale: the checkout died between its steps. Its order, if it got that far, says what it came to.
  if (order && (order.status === 'confirmed' || order.status === 'cancelled')) {
    await deps.keys.settle(deps.knex, customer.userId, key, 'placed');
    return { order };
  }
  if (order?.status === 'payment_declined') {
    await deps.keys.settle(deps.knex, customer.userId, key, 'declined', 'declined');
    return { error: OrderErrors.paymentDeclined(order.id, 'declined') };
  }
  // Still `pending`: its saga has not ended (a door is down); the saga sweep confirms or
  // compensates it, and until then the key stays in flight.
  if (order?.status === 'pending') throw OrderErrors.idempotencyKeyInFlight();
  // Never written, or `payment_failed`: nothing was kept (the saga compensated: stock back, charge
  // cancelled), so the key is free again.
  await deps.keys.release(deps.knex, customer.userId, key, held.orderId);
  return undefined;
}
