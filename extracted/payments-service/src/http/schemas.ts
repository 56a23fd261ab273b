import { z } from 'zod';

/** The door's charge, as the monolith's orders module calls it (ChargeInput). */
export const chargeBody = z.object({
  orderId: z.uuid(),
  userId: z.uuid(),
  amountCents: z.number().int().nonnegative(),
  card: z.object({ number: z.string().min(1).max(32) }),
});

export const refundBody = z.object({ orderId: z.uuid() });

/** The door's cancelCharge: settle whatever an unanswered charge for the order did. */
export const cancellationBody = z.object({ orderId: z.uuid() });
