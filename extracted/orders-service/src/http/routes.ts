import { Router, type Request } from 'express';
import { z } from 'zod';
import { authenticate, principalOf, type TokenVerifier } from '@banyan/auth';
import { decodeCursor, encodeCursor, parse } from '@banyan/http';
import { ordersRepository as repo } from '../data/repository';
import { cancelOrder } from '../domain/cancel-order';
import type { OrdersDeps } from '../domain/deps';
import { findOrder } from '../domain/find-order';
import { OrderErrors, toView } from '../domain/order';
import { placeOrder } from '../domain/place-order';
import { placeOrderOnce } from '../domain/place-order-once';
import { idempotencyKeyOf, listQuery, placeOrderBody } from './schemas';

function orderId(req: Request): string {
  const id = req.params.id as string;
  if (!z.uuid().safeParse(id).success) throw OrderErrors.notFound();
  return id;
}

export function ordersRouter(deps: OrdersDeps, verifier: TokenVerifier): Router {
  const router = Router();
  router.use(authenticate(verifier));

  router.post('/', async (req, res) => {
    const input = parse(placeOrderBody, req.body);
    const key = idempotencyKeyOf(req.header('idempotency-key'));
    if (key === undefined) {
      const order = await placeOrder(deps, principalOf(req), input);
      return void res.status(201).location(`${req.baseUrl}/${order.id}`).json(toView(order));
    }
    const outcome = await placeOrderOnce(deps, principalOf(req), input, key);
    // Stripe's name for it: a client can tell a replayed answer from a first one.
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
    if ('error' in outcome) throw outcome.error;
    res.status(201).location(`${req.baseUrl}/${outcome.order.id}`).json(toView(outcome.order));
  });

  router.get('/', async (req, res) => {
    const query = parse(listQuery, req.query);
    const page = await repo.pageForUser(deps.knex, principalOf(req).userId, query.limit, decodeCursor(query.cursor));
    const last = page.items.at(-1);
    res.json({ items: page.items.map(toView), nextCursor: page.hasMore && last ? encodeCursor(last.id) : null });
  });

  router.get('/:id', async (req, res) => {
    res.json(toView(await findOrder(deps, principalOf(req), orderId(req))));
  });

  router.post('/:id/cancel', async (req, res) => {
    res.json(toView(await cancelOrder(deps, principalOf(req), orderId(req))));
  });

  return router;
}
