import { Router, type Request } from 'express';
import { z } from 'zod';
import { authenticate, requireRole, type TokenVerifier } from '@banyan/auth';
import { decodeCursor, encodeCursor, parse } from '@banyan/http';
import { productsRepository as repo } from '../data/repository';
import { adjustStock } from '../domain/adjust-stock';
import { createProduct } from '../domain/create-product';
import type { ProductsDeps } from '../domain/deps';
import { ProductErrors } from '../domain/product';
import { updateProduct } from '../domain/update-product';
import { createProductBody, listQuery, stockBody, updateProductBody } from './schemas';

/** A malformed id names no product: 404 like any unknown id, and the query never sees it. */
function productId(req: Request): string {
  const id = req.params.id as string;
  if (!z.uuid().safeParse(id).success) throw ProductErrors.notFound();
  return id;
}

export function productsRouter(deps: ProductsDeps, verifier: TokenVerifier): Router {
  const router = Router();
  const admin = [authenticate(verifier), requireRole('admin')];

  router.get('/', async (req, res) => {
    const query = parse(listQuery, req.query);
    const page = await repo.page(deps.knex, query.limit, decodeCursor(query.cursor));
    const last = page.items.at(-1);
    res.json({ items: page.items, nextCursor: page.hasMore && last ? encodeCursor(last.id) : null });
  });

  router.get('/:id', async (req, res) => {
    const product = await repo.find(deps.knex, productId(req));
    if (!product) throw ProductErrors.notFound();
    res.json(product);
  });

  router.post('/', ...admin, async (req, res) => {
    const product = await createProduct(deps, parse(createProductBody, req.body));
    res.status(201).location(`${req.baseUrl}/${product.id}`).json(product);
  });

  router.patch('/:id', ...admin, async (req, res) => {
    const id = productId(req);
    res.json(await updateProduct(deps, id, parse(updateProductBody, req.body)));
  });

  router.post('/:id/stock', ...admin, async (req, res) => {
    const id = productId(req);
    const { delta } = parse(stockBody, req.body);
    res.json(await adjustStock(deps, id, delta));
  });

  return router;
}
