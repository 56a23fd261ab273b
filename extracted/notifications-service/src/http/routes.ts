import { Router } from 'express';
import { authenticate, principalOf, type TokenVerifier } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import { decodeCursor, parse } from '@banyan/http';
import { z } from 'zod';
import type { NotificationsRepository } from '../data/repository';
import { listNotifications } from '../domain/list-notifications';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().optional(),
});

export function notificationsRouter(deps: { knex: Knex; store: NotificationsRepository; verifier: TokenVerifier }): Router {
  const router = Router();
  router.use(authenticate(deps.verifier));

  router.get('/', async (req, res) => {
    const query = parse(listQuery, req.query);
    res.json(await listNotifications(deps, principalOf(req).userId, query.limit, decodeCursor(query.cursor)));
  });

  return router;
}
