import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type CryptoKey } from 'jose';
import type { Logger } from '@banyan/telemetry';
import type { signingKeysRepository, StoredKey } from '../data/repository';

export const SIGNING_ALG = 'ES256';

export interface KeyRing {
  /** The active private key, created on first need. */
  signingKey(): Promise<{ kid: string; key: CryptoKey | Uint8Array }>;
  /** The public keys (never empty: asking creates the first key), for the verifier and the JWKS endpoint. */
  jwks(): Promise<JSONWebKeySet>;
}

async function generate(): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG },
    publicJwk: { ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' },
  };
}

/**
 * Keys live in the database so tokens survive restarts and every instance signs with the same
 * key. A production system would keep the private half in a KMS or secret store; here the
 * database is the one piece of infrastructure the monolith already has.
 */
export function createKeyRing(keys: ReturnType<typeof signingKeysRepository>, logger: Logger): KeyRing {
  let active: Promise<{ kid: string; key: CryptoKey | Uint8Array }> | undefined;

  const load = async () => {
    let stored = await keys.active();
    if (!stored) {
      await keys.insertIfNoneActive(await generate());
      // Re-read rather than trust our own key: another process may have won the race.
      stored = await keys.active();
      if (!stored) throw new Error('no active signing key after inserting one');
      logger.info({ kid: stored.kid }, 'token signing key ready');
    }
    return { kid: stored.kid, key: await importJWK(stored.privateJwk, SIGNING_ALG) };
  };

  return {
    signingKey() {
      // A failure (database not up yet) must not be remembered.
      active ??= load().catch((err) => {
        active = undefined;
        throw err;
      });
      return active;
    },
    async jwks() {
      await this.signingKey();
      return { keys: await keys.publicKeys() };
    },
  };
}
