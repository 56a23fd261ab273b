import { z } from 'zod';
import { luhnValid } from '@banyan/card-processor';

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
