import { Router } from 'express';
import { authenticate, principalOf, type TokenVerifier } from '@banyan/auth';
import { parse } from '@banyan/http';
import type { UsersContext } from '../domain/context';
import { getUser } from '../domain/get-user';
import { logIn } from '../domain/log-in';
import { signUp } from '../domain/sign-up';
import { updateProfile } from '../domain/update-profile';
import { loginBody, profileBody, registerBody } from './dto';

export function usersRouter(ctx: UsersContext, verifier: TokenVerifier): Router {
  const router = Router();
  const signedIn = authenticate(verifier);

  router.post('/', async (req, res) => {
    res.status(201).json(await signUp(ctx, parse(registerBody, req.body), { address: req.ip }));
  });

  router.post('/login', async (req, res) => {
    // req.ip follows the app's `trust proxy` (TRUST_PROXY): the gateway's X-Forwarded-For is
    // believed only when the connection comes from a trusted proxy.
    res.json(await logIn(ctx, parse(loginBody, req.body), { address: req.ip }));
  });

  router.get('/me', signedIn, async (req, res) => {
    res.json(await getUser(ctx, principalOf(req).userId));
  });

  router.patch('/me', signedIn, async (req, res) => {
    res.json(await updateProfile(ctx, principalOf(req).userId, parse(profileBody, req.body)));
  });

  // Public: extracted services and the gateway fetch it to verify tokens without a secret.
  router.get('/.well-known/jwks.json', async (_req, res) => {
    res.set('cache-control', 'public, max-age=300').json(await ctx.keys.jwks());
  });

  return router;
}
