import { Router } from 'express';
import { z } from 'zod';
import { authenticate, requireRole, type TokenVerifier } from '@banyan/auth';
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
 * customer's or an admin's token gets 403.
 */
export function internalStockRouter(deps: ProductsDeps, verifier: TokenVerifier): Router {
  const router = Router();
  const service = [authenticate(verifier), requireRole('service')];

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
