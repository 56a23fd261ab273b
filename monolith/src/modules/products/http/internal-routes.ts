import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { authenticate, bearerToken, requireRole, secretMatches, type TokenVerifier } from '@banyan/auth';
import { parse } from '@banyan/http';
import { MAX_STOCK, type ReservedItem, type StockItem } from '../domain/product';

const orderStock = z.strictObject({
  orderId: z.uuid(),
  items: z
    .array(z.strictObject({ productId: z.uuid(), quantity: z.number().int().min(1).max(MAX_STOCK) }))
    .min(1)
    .max(100),
});

/** The stock calls, each on the side the routing names (the module's door wires them). */
export interface StockDoor {
  reserve(orderId: string, items: StockItem[]): Promise<ReservedItem[]>;
  cancel(orderId: string): Promise<void>;
  release(orderId: string, items: StockItem[]): Promise<void>;
}

/**
 * The products service's internal stock API, served by the monolith for the extracted orders
 * service while products is the monolith's (ADR 0314): the same paths, bodies and answers, keyed
 * by order id (ADR 0302's rules). A `service` token or the orders service's own credential
 * (PRODUCTS_SERVICE_TOKEN); the public gateway answers 404 for these paths (the declaration's
 * `internal`), so only the monolith's own port serves them.
 */
export function internalStockRouter(stock: StockDoor, verifier: TokenVerifier, callerToken: string | undefined): Router {
  const router = Router();
  const jwt = [authenticate(verifier), requireRole('service')];
  const caller: RequestHandler = (req, res, next) => {
    if (secretMatches(bearerToken(req), callerToken)) return next();
    jwt[0](req, res, (err?: unknown) => (err ? next(err) : jwt[1](req, res, next)));
  };

  router.post('/reservations', caller, async (req, res) => {
    const { orderId, items } = parse(orderStock, req.body);
    res.json({ orderId, items: await stock.reserve(orderId, items) });
  });
  router.post('/reservations/:orderId/cancel', caller, async (req, res) => {
    const { orderId } = parse(z.object({ orderId: z.uuid() }), req.params);
    await stock.cancel(orderId);
    res.status(204).end();
  });
  router.post('/releases', caller, async (req, res) => {
    const { orderId, items } = parse(orderStock, req.body);
    await stock.release(orderId, items);
    res.status(204).end();
  });
  return router;
}
