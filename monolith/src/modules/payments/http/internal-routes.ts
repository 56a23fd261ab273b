import { Router } from 'express';
import { z } from 'zod';
import { parse } from '@banyan/http';
import type { ChargeInput } from '../domain/payment';
import { requireCaller } from './caller';

const chargeBody = z.object({
  orderId: z.uuid(),
  userId: z.uuid(),
  amountCents: z.number().int().nonnegative(),
  card: z.object({ number: z.string().min(1).max(32) }),
});
const byOrder = z.object({ orderId: z.uuid() });

/** The module's door (PaymentsApi), as these routes use it. */
interface Door {
  charge(input: ChargeInput): Promise<unknown>;
  refund(orderId: string): Promise<unknown>;
  cancelCharge(orderId: string): Promise<unknown>;
}

/**
 * The payments door over HTTP, for the extracted orders service while payments is the monolith's
 * (ADR 0314): the same paths, bodies and answers as the payments service's, behind the same
 * credential (PAYMENTS_SERVICE_TOKEN). Each call goes through the door, so it follows the routing
 * like an in-process checkout's and is counted by the switch fence; keyed by order id, so a call
 * repeated after a lost answer gets the first result. The public gateway answers 404 for these
 * paths (the declaration's `internal`), so only the monolith's own port serves them.
 */
export function internalPaymentsRouter(door: Door, callerToken: string | undefined): Router {
  const router = Router();
  const caller = requireCaller(callerToken);
  router.post('/charges', caller, async (req, res) => {
    res.json(await door.charge(parse(chargeBody, req.body)));
  });
  router.post('/refunds', caller, async (req, res) => {
    res.json(await door.refund(parse(byOrder, req.body).orderId));
  });
  router.post('/cancellations', caller, async (req, res) => {
    res.json(await door.cancelCharge(parse(byOrder, req.body).orderId));
  });
  return router;
}
