import { z } from 'zod';
import { luhnValid } from '@banyan/card-processor';
import { Errors } from '@banyan/errors';

export const MAX_QUANTITY = 1000;

const line = z.strictObject({
  productId: z.uuid(),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
});

const cardNumber = z
  .string()
  .max(40)
  .transform((s) => s.replace(/ /g, ''))
  .pipe(z.string().regex(/^\d{12,19}$/, 'must be 12 to 19 digits').refine(luhnValid, 'is not a valid card number'));

/**
 * Repeated lines for one product are merged (quantities added), as a cart would; the merged
 * quantity obeys the same limit as a single line.
 */
export const placeOrderBody = z.strictObject({
  items: z
    .array(line)
    .min(1)
    .max(50)
    .transform((lines) => {
      const merged = new Map<string, number>();
      for (const l of lines) merged.set(l.productId, (merged.get(l.productId) ?? 0) + l.quantity);
      return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
    })
    .refine((lines) => lines.every((l) => l.quantity <= MAX_QUANTITY), `at most ${MAX_QUANTITY} of one product per order`),
  card: z.strictObject({ number: cardNumber }),
});

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

/**
 * The `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header): optional; when sent,
 * 1 to 255 visible ASCII characters (a UUID is the usual choice). Undefined when absent.
 */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // The draft's form is a structured-field string: a client may quote it.
  const key = /^"(.*)"$/.exec(header)?.[1] ?? header;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw Errors.validation([{ path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters (a UUID, for example)' }]);
  }
  return key;
}
