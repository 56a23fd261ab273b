import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { authenticate, bearerToken, requireRole, secretMatches, type TokenVerifier } from '@banyan/auth';
import { parse } from '@banyan/http';
import { cancelReservation } from '../domain/cancel-reservation';
import { MAX_STOCK } from '../domain/product';
import type { ProductsDeps } from '../domain/deps';
import { releaseOrderStock } from '../domain/release-order-stock';
import { takeReservation } from '../domain/take-reservation';

const orderStock = z.strictObject({
  orderId: z.uuid(),
  items: z
    .array(z.strictObject({ productId: z.uuid(), quantity: z.number().int().min(1).max(MAX_STOCK) }))
    .min(1)
    .max(100),
});

/**
 * What the monolith's products door called in-process before extraction (ADR 0302). These paths
 * are reachable through the gateway like every /api/products path, so they take a `service` token
 * (issued by the users domain to the system's own processes, verified through the JWKS): a
 * customer's or an admin's token gets 403. The extracted orders service cannot get such a token
 * (the users domain issues them in-process only), so it presents a credential of its own,
 * `PRODUCTS_SERVICE_TOKEN`, compared in constant time, as the payments door does (ADR 0311, 0314).
 */
export function internalStockRouter(deps: ProductsDeps, verifier: TokenVerifier, callerToken?: string): Router {
  const router = Router();
  const jwt = [authenticate(verifier), requireRole('service')];
  const caller: RequestHandler = (req, res, next) => {
    if (secretMatches(bearerToken(req), callerToken)) return next();
    jwt[0](req, res, (err?: unknown) => (err ? next(err) : jwt[1](req, res, next)));
  };
  const service = [caller];

  router.post('/reservations', ...service, async (req, res) => {
    const { orderId, items } = parse(orderStock, req.body);
    res.json({ orderId, items: await takeReservation(deps, orderId, items) });
  });

  router.post('/reservations/:orderId/cancel', ...service, async (req, res) => {
    const { orderId } = parse(z.object({ orderId: z.uuid() }), req.params);
    await cancelReservation(deps, orderId);
    res.status(204).end();
  });

  router.post('/releases', ...service, async (req, res) => {
    const { orderId, items } = parse(orderStock, req.body);
    await releaseOrderStock(deps, orderId, items);
    res.status(204).end();
  });

  return router;
}
