import { Router } from 'express';
import { z } from 'zod';
import { authenticate, principalOf, type TokenVerifier } from '@banyan/auth';
import { parse } from '@banyan/http';
import { cancelCharge } from '../domain/cancel-charge';
import { chargePayment } from '../domain/charge-payment';
import type { PaymentsDeps } from '../domain/deps';
import { findPayment } from '../domain/find-payment';
import { PaymentErrors, toView } from '../domain/payment';
import { refundPayment } from '../domain/refund-payment';
import { requireCaller } from './caller';
import { cancellationBody, chargeBody, refundBody } from './schemas';

/** One payment per order, so the filtered collection has at most one item and never a next page. */
const byOrderQuery = z.object({ orderId: z.uuid() });

export function paymentsRouter(deps: PaymentsDeps, verifier: TokenVerifier, callerToken: string | undefined): Router {
  const router = Router();

  // What the monolith's payments door called in-process before extraction. Idempotent by order
  // id, so the door may repeat a call whose answer it never received.
  router.post('/charges', requireCaller(callerToken), async (req, res) => {
    res.json(await chargePayment(deps, parse(chargeBody, req.body)));
  });
  router.post('/refunds', requireCaller(callerToken), async (req, res) => {
    res.json(await refundPayment(deps, parse(refundBody, req.body).orderId));
  });
  router.post('/cancellations', requireCaller(callerToken), async (req, res) => {
    res.json(await cancelCharge(deps, parse(cancellationBody, req.body).orderId));
  });

  router.use(authenticate(verifier));

  router.get('/', async (req, res) => {
    const { orderId } = parse(byOrderQuery, req.query);
    const payment = await findPayment(deps, principalOf(req), { orderId });
    res.json({ items: [toView(payment)], nextCursor: null });
  });

  router.get('/:id', async (req, res) => {
    const id = req.params.id;
    if (!z.uuid().safeParse(id).success) throw PaymentErrors.notFound();
    res.json(toView(await findPayment(deps, principalOf(req), { id })));
  });

  return router;
}
