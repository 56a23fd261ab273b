import { createTokenVerifier, type TokenVerifier } from '@banyan/auth';
import type { JSONWebKeySet } from 'jose';
import type { Module, ModuleContext } from '../../kernel';
import { migrations } from './data/migrations';
import { isEmailTaken, signingKeysRepository, usersRepository } from './data/repository';
import { throttleRepository } from './data/throttle-repository';
import type { UsersContext } from './domain/context';
import { ensureUser, type EnsureUserInput } from './domain/ensure-user';
import { findUserByEmail, getUser } from './domain/get-user';
import { issueServiceToken } from './domain/issue-service-token';
import { createKeyRing } from './domain/signing-keys';
import { createAttemptThrottle } from './domain/throttle';
import type { User } from './domain/user';
import { accountEvents } from './events/account-changed';
import { userSyncSubscriptions } from './events/sync';
import { usersRouter } from './http/routes';

export type { User, Role } from './domain/user';
export type { UserRegistered } from './events/user-registered';
export type { EnsureUserInput };

/** The users module's door for the rest of the monolith. */
export interface UsersApi {
  /** Create the user if missing (created: true); an existing one keeps everything but its password is set to `password`. */
  ensureUser(input: EnsureUserInput): Promise<{ user: User; created: boolean }>;
  /** Throws USERS.NOT_FOUND when there is no such user. */
  getUser(id: string): Promise<User>;
  findUserByEmail(email: string): Promise<User | undefined>;
  /** The public keys that verify this module's tokens. */
  jwks(): Promise<JSONWebKeySet>;
  /**
   * A short-lived token with role `service` for this process's calls to an extracted service's
   * internal endpoints (verified there through the JWKS; no shared secret). `expiresAt` in ms.
   */
  issueServiceToken(subject: string): Promise<{ token: string; expiresAt: number }>;
  /**
   * Announce a new signing key now, to sign after `announceMs` (default USERS_KEY_ANNOUNCE_MS);
   * the policy does this by itself every USERS_KEY_ROTATE_AFTER_MS (ADR 0332). For operators and tests.
   */
  rotateSigningKey(announceMs?: number): Promise<{ kid: string; signsFrom: Date }>;
}

/**
 * The users module also hands out the verifier every other module authenticates with, so it
 * is built first and needs no verifier of its own in its context.
 */
export function createUsersModule(ctx: Omit<ModuleContext, 'verifier'>): Module<UsersApi> & { verifier: TokenVerifier } {
  const { config } = ctx;
  const counter = throttleRepository(ctx.knex);
  const keyRing = createKeyRing(signingKeysRepository(ctx.knex), ctx.logger, {
    rotateAfterMs: config.USERS_KEY_ROTATE_AFTER_MS,
    announceMs: config.USERS_KEY_ANNOUNCE_MS,
    tokenTtlMs: config.TOKEN_TTL_SECONDS * 1000,
  });
  const users: UsersContext = {
    knex: ctx.knex,
    outbox: ctx.outbox,
    events: accountEvents(ctx.outbox),
    users: usersRepository,
    isEmailTaken,
    keys: keyRing,
    tokenTtlSeconds: config.TOKEN_TTL_SECONDS,
    throttle: createAttemptThrottle(counter, {
      windowMs: config.USERS_THROTTLE_WINDOW_MS,
      loginFailuresPerAccount: config.USERS_LOGIN_FAILURES_PER_ACCOUNT,
      loginAttemptsPerAddress: config.USERS_LOGIN_ATTEMPTS_PER_ADDRESS,
      registrationsPerAddress: config.USERS_REGISTRATIONS_PER_ADDRESS,
    }),
  };
  const api: UsersApi = {
    ensureUser: (input) => ensureUser(users, input),
    getUser: (id) => getUser(users, id),
    findUserByEmail: (email) => findUserByEmail(users, email),
    jwks: () => users.keys.jwks(),
    issueServiceToken: (subject) => issueServiceToken(users.keys, subject),
    rotateSigningKey: (announceMs) => keyRing.rotate(announceMs),
  };
  // jwks() creates the first key when there is none, so the verifier never caches an empty set.
  const verifier = createTokenVerifier({ getKey: () => api.jwks() });
  let sweeper: NodeJS.Timeout | undefined;
  let rotation: NodeJS.Timeout | undefined;
  const keepKeysCurrent = () => keyRing.keepCurrent().catch((err) => ctx.logger.warn({ err }, 'signing key rotation check failed'));
  return {
    name: 'users',
    schema: { schema: 'users', migrations },
    router: usersRouter(users, verifier),
    api,
    subscriptions: [],
    // The users service's registrations and profile changes, whatever the routing (ADR 0333).
    syncSubscriptions: userSyncSubscriptions({ consumer: 'users-sync', from: 'users-service', fromWinsTies: true }),
    verifier,
    async start() {
      // Ended windows are dead rows (a hit restarts them anyway); every instance sweeps, which is
      // harmless. At most once a minute, however short the window.
      sweeper = setInterval(() => {
        counter.sweep().catch((err) => ctx.logger.warn({ err }, 'sweeping ended throttle windows failed'));
      }, Math.max(config.USERS_THROTTLE_WINDOW_MS, 60_000));
      sweeper.unref();
      // Every instance checks; rotate() locks the signing key's row, so two checks make one successor.
      void keepKeysCurrent();
      rotation = setInterval(() => void keepKeysCurrent(), 60_000);
      rotation.unref();
    },
    async stop() {
      clearInterval(sweeper);
      clearInterval(rotation);
    },
  };
}
