import { createHash } from 'node:crypto';
import { countedAddress } from './client-address';
import { UsersErrors } from './errors';

/**
 * Where the throttle counts (data/throttle-repository.ts: a PostgreSQL table every instance
 * shares). Fixed windows: a key's window opens at its first hit and lasts `windowMs`.
 */
export interface AttemptCounter {
  /** Counts one hit against `key`; returns the hits in its current window, this one included, and the ms left in it. */
  hit(key: string, windowMs: number): Promise<{ hits: number; msLeft: number }>;
  forget(key: string): Promise<void>;
  /** Deletes the keys whose window has ended; returns how many. */
  sweep(): Promise<number>;
}

export interface ThrottleLimits {
  windowMs: number;
  loginFailuresPerAccount: number;
  loginAttemptsPerAddress: number;
  registrationsPerAddress: number;
}

/**
 * Login and registration limits (ADR 0331). Each check counts the attempt *before* the password
 * is hashed, so an attempt over a limit costs one upsert instead of a 16 MiB scrypt, and attempts
 * racing in parallel cannot all slip under the limit. Over a limit: USERS.TOO_MANY_ATTEMPTS (429)
 * with Retry-After, one answer whichever limit it was and whether or not the account exists.
 */
export interface AttemptThrottle {
  /** Counts a login against the client's address (every attempt) and the account (until a success forgets it). */
  admitLogin(email: string, address: string | undefined): Promise<void>;
  /** After a correct password: the account's failures are forgotten. */
  loginSucceeded(email: string): Promise<void>;
  admitRegistration(address: string | undefined): Promise<void>;
}

// Hashed so the table holds no email (nor address) in clear, and every key has one length.
const keyOf = (scope: string, subject: string) => `${scope}:${createHash('sha256').update(subject).digest('base64url')}`;

export function createAttemptThrottle(counter: AttemptCounter, limits: ThrottleLimits): AttemptThrottle {
  const admit = async (key: string, limit: number) => {
    const { hits, msLeft } = await counter.hit(key, limits.windowMs);
    if (hits > limit) throw UsersErrors.tooManyAttempts(Math.max(1, Math.ceil(msLeft / 1000)));
  };
  const account = (email: string) => keyOf('login-account', email);

  return {
    async admitLogin(email, address) {
      // The address first: a client over its own limit does not use up the account's attempts.
      await admit(keyOf('login-address', countedAddress(address)), limits.loginAttemptsPerAddress);
      await admit(account(email), limits.loginFailuresPerAccount);
    },
    loginSucceeded: (email) => counter.forget(account(email)),
    admitRegistration: (address) => admit(keyOf('registration-address', countedAddress(address)), limits.registrationsPerAddress),
  };
}
