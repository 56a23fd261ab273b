import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER, type Role } from '@banyan/auth';

/** A stand-in for the users domain's signing key, so the service's tests need no monolith. */
export async function tokenIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256', use: 'sig' };
  return {
    verifier: createTokenVerifier({ jwks: { keys: [jwk] } }),
    sign: (userId: string, role: Role = 'customer') =>
      new SignJWT({ email: `${userId}@example.com`, role })
        .setProtectedHeader({ alg: 'ES256', kid: 'test' })
        .setSubject(userId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setExpirationTime('10m')
        .sign(privateKey),
  };
}
