import { z } from 'zod';
import { MAX_STOCK } from '../domain/product';

/** PostgreSQL text cannot hold NUL; refusing it here keeps a 500 from ever reaching the client. */
const text = (max: number) =>
  z.string().max(max).refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

const sku = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64');
const name = text(200).trim().min(1);
const description = text(5000);
/** Up to 1 000 000.00: large enough for a shop, small enough that order totals stay exact in JS. */
const priceCents = z.number().int().min(0).max(100_000_000);

export const createProductBody = z.strictObject({
  sku,
  name,
  description: description.default(''),
  priceCents,
  stock: z.number().int().min(0).max(MAX_STOCK).default(0),
});

/** Stock is not patchable: it changes through `/stock` so every change carries a reason. */
export const updateProductBody = z
  .strictObject({ sku: sku.optional(), name: name.optional(), description: description.optional(), priceCents: priceCents.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one field to change');

export const stockBody = z.strictObject({
  delta: z
    .number()
    .int()
    .min(-MAX_STOCK)
    .max(MAX_STOCK)
    .refine((d) => d !== 0, 'must not be zero'),
});

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
