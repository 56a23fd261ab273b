import { randomUUID } from 'node:crypto';

export interface ChargeRequest {
  amountCents: number;
  cardNumber: string;
  /** The processor answers a repeated key with the first answer instead of charging again. */
  idempotencyKey: string;
}

export interface ChargeResult {
  approved: boolean;
  /** The processor's id for the charge, needed to refund it. */
  reference?: string;
  declineReason?: string;
}

/** What a technical cancel found under the key, and undid. */
export interface CancelResult {
  /** A charge under the key had gone through: it is refunded (its reference says which). */
  wasCharged: boolean;
  reference?: string;
}

/** The third-party card processor. Implementations throw when it cannot be reached. */
export interface CardProcessor {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: { reference: string; amountCents: number; idempotencyKey: string }): Promise<{ reference: string }>;
  /**
   * Undo whatever a charge under `idempotencyKey` did, for a caller that never learnt the answer
   * (Adyen's "technical cancel" by merchant reference): a charge that went through is refunded,
   * and the key is closed, so a charge request still on its way under it is declined, not taken.
   */
  cancel(request: { idempotencyKey: string }): Promise<CancelResult>;
}

export function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const DECLINED: Record<string, string> = {
  '4000000000000002': 'card_declined',
  '4000000000009995': 'insufficient_funds',
};

/**
 * The fake of the card processor, following the common test-card convention. It keeps the
 * processor's idempotency promise (same key, same answer) because payments relies on it.
 */
export function testCardProcessor(): CardProcessor {
  const charges = new Map<string, ChargeResult>();
  const refunds = new Map<string, { reference: string }>();
  return {
    async charge({ cardNumber, idempotencyKey }) {
      const previous = charges.get(idempotencyKey);
      if (previous) return previous;
      const digits = cardNumber.replace(/\s+/g, '');
      const reason = !luhnValid(digits) ? 'invalid_number' : DECLINED[digits];
      const result: ChargeResult = reason ? { approved: false, declineReason: reason } : { approved: true, reference: `ch_${randomUUID()}` };
      charges.set(idempotencyKey, result);
      return result;
    },
    async refund({ idempotencyKey }) {
      const previous = refunds.get(idempotencyKey);
      if (previous) return previous;
      const result = { reference: `re_${randomUUID()}` };
      refunds.set(idempotencyKey, result);
      return result;
    },
    async cancel({ idempotencyKey }) {
      const previous = charges.get(idempotencyKey);
      if (previous?.approved) return { wasCharged: true, reference: previous.reference };
      // Nothing charged (or declined): close the key so a late request under it is declined.
      if (!previous) charges.set(idempotencyKey, { approved: false, declineReason: 'cancelled' });
      return { wasCharged: false };
    },
  };
}

/**
 * The test-card fake (or any processor) behind a switch, a gate and counters, for tests of what
 * reaches the third party: `down` refuses charges and cancels as an unreachable processor would,
 * `hold` keeps each charge open until it settles, and every charge, refund and cancel is counted
 * (a charge when it reaches the processor, down or not).
 */
export function observedProcessor(inner: CardProcessor = testCardProcessor()) {
  const state = { down: false, delayMs: 0, hold: undefined as Promise<void> | undefined, charges: 0, refunds: 0, cancels: 0 };
  const processor: CardProcessor = {
    async charge(request) {
      state.charges++;
      if (state.down) throw new Error('ECONNREFUSED card processor');
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      await state.hold;
      return inner.charge(request);
    },
    async refund(request) {
      state.refunds++;
      return inner.refund(request);
    },
    async cancel(request) {
      if (state.down) throw new Error('ECONNREFUSED card processor');
      state.cancels++;
      return inner.cancel(request);
    },
  };
  return { processor, state };
}
