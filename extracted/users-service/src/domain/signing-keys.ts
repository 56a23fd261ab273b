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

/** How long a process signs with the key it read before reading again (another instance may have rotated). */
export const REREAD_MS = 30_000;

export interface RotationPolicy {
  /** A key signs this long before its successor takes over. */
  rotateAfterMs: number;
  /** The successor is published this long before it signs, so every verifier's cache has it. */
  announceMs: number;
  /** How long a token lives: a retired key stays published this long after it stopped signing. */
  tokenTtlMs: number;
  /**
   * How often a process reads its signing key again (default 30 s): a rotation another process
   * started reaches this one within it, so an announcement must be longer (ADR 0333).
   */
  rereadMs?: number;
}

/**
 * Keys live in the database so tokens survive restarts and every instance signs with the same
 * key. A production system would keep the private half in a KMS or secret store; here the
 * database is the one piece of infrastructure the monolith already has.
 *
 * Keys rotate by announcement (docs/adr/0332-signing-key-rotation.md, Duende IdentityServer's
 * scheme): a successor is published `announceMs` before it signs, and the key it replaces stays
 * published until the last token it signed has expired. At every moment the JWKS holds every key
 * a valid token can name, and every key that is about to sign.
 */
export function createKeyRing(keys: ReturnType<typeof signingKeysRepository>, logger: Logger, policy?: RotationPolicy): KeyRing & {
  /** Announce a successor now (an operator's rotation, or the policy's); the key that will sign next. */
  rotate(announceMs?: number): Promise<{ kid: string; signsFrom: Date }>;
  /** Rotate if the policy says the signing key is due, and forget keys long unpublished. */
  keepCurrent(): Promise<void>;
} {
  let active: Promise<{ kid: string; key: CryptoKey | Uint8Array; until: number }> | undefined;

  const load = async () => {
    let stored = await keys.active();
    if (!stored) {
      await keys.insertIfNoneActive(await generate());
      // Re-read rather than trust our own key: another process may have won the race.
      stored = await keys.active();
      if (!stored) throw new Error('no active signing key after inserting one');
      logger.info({ kid: stored.kid }, 'token signing key ready');
    }
    // Read again at its planned retirement, and every rereadMs in case another instance rotated.
    // Never in the past: this process's clock may run ahead of the database's, which decides.
    const until = Math.max(Date.now() + 100, Math.min(Date.now() + (policy?.rereadMs ?? REREAD_MS), stored.retiresAt ? stored.retiresAt.getTime() : Infinity));
    return { kid: stored.kid, key: await importJWK(stored.privateJwk, SIGNING_ALG), until };
  };

  const ring = {
    async signingKey(): Promise<{ kid: string; key: CryptoKey | Uint8Array; until: number }> {
      // A failure (database not up yet) must not be remembered.
      const current = active ?? (active = load().catch((err) => {
        active = undefined;
        throw err;
      }));
      const key = await current;
      if (Date.now() < key.until) return key;
      if (active === current) active = undefined;
      return ring.signingKey();
    },
    async jwks() {
      await ring.signingKey();
      return { keys: await keys.publicKeys() };
    },
    async rotate(announceMs = policy?.announceMs ?? 0) {
      await ring.signingKey(); // a first key exists to be replaced
      const next = await keys.rotate(await generate(), announceMs, policy?.tokenTtlMs ?? 0);
      logger.info({ kid: next.kid, signsFrom: next.signsFrom.toISOString() }, 'token signing key announced');
      // This instance's cached key now has a planned retirement: read it again.
      active = undefined;
      return { kid: next.kid, signsFrom: next.signsFrom };
    },
    async keepCurrent() {
      if (!policy) return;
      const current = await keys.active();
      if (current && !current.retiresAt && !(await keys.announced())) {
        const dueAt = current.signsFrom.getTime() + policy.rotateAfterMs - policy.announceMs;
        if (Date.now() >= dueAt) await ring.rotate(policy.announceMs);
      }
      await keys.forgetUnpublished(24 * 3_600_000);
    },
  };
  return ring;
}
