import { SignJWT } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { SIGNING_ALG, type KeyRing } from './signing-keys';
import type { User } from './user';

/** The claims every domain's verifier reads: sub, email, role. */
export async function issueToken(keys: KeyRing, user: User, ttlSeconds: number): Promise<string> {
  const { kid, key } = await keys.signingKey();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: user.email, role: user.role })
    .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(key);
}
