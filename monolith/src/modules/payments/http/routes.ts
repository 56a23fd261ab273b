import { Router } from 'express';
import { z } from 'zod';
import { authenticate, principalOf, type TokenVerifier } from '@banyan/auth';
import { parse } from '@banyan/http';
import type { PaymentsDeps } from '../domain/deps';
import { findPayment } from '../domain/find-payment';
import { PaymentErrors, toView } from '../domain/payment';

/** One payment per order, so the filtered collection has at most one item and never a next page. */
const byOrderQuery = z.object({ orderId: z.uuid() });

export function paymentsRouter(deps: PaymentsDeps, verifier: TokenVerifier): Router {
  const router = Router();
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
