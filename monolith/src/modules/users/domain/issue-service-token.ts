import { SignJWT } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { SIGNING_ALG, type KeyRing } from './signing-keys';

/** Short: a leaked service token is useful for minutes, and callers re-issue it in-process for free. */
export const SERVICE_TOKEN_TTL_SECONDS = 300;

/**
 * A token for one of the system's own processes calling another's internal endpoint. Signed with
 * the same key as users' tokens, so the callee verifies it through the JWKS like any token and no
 * secret is shared between processes. `subject` names the caller (e.g. `monolith:products`); the
 * email claim is only there because every verifier requires one.
 */
export async function issueServiceToken(keys: KeyRing, subject: string, ttlSeconds = SERVICE_TOKEN_TTL_SECONDS) {
  const { kid, key } = await keys.signingKey();
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ email: `${subject.replace(/[^a-z0-9.-]/gi, '-')}@service.banyan.local`, role: 'service' })
    .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(key);
  return { token, expiresAt: (now + ttlSeconds) * 1000 };
}
