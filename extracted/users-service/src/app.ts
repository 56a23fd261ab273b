import { createTokenVerifier } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import { buildService, type ServiceDefinition, type ServiceParts } from '@banyan/service-kit';
import type { Logger } from '@banyan/telemetry';
import { USERS_SCHEMA, migrations } from './data/migrations';
import { isEmailTaken, signingKeysRepository, usersRepository } from './data/repository';
import { throttleRepository } from './data/throttle-repository';
import type { UsersContext } from './domain/context';
import { createKeyRing } from './domain/signing-keys';
import { createAttemptThrottle, type ThrottleLimits } from './domain/throttle';
import { accountEvents } from './events/account-changed';
import { userSyncSubscriptions } from './events/sync';
import { usersRouter } from './http/routes';

export const SERVICE_NAME = 'users-service';

const keyStoreReady = async (keyStore: Knex) => {
  try {
    await keyStore.raw('SELECT 1 FROM users.signing_keys LIMIT 1');
    return true;
  } catch {
    return false;
  }
};

/** What the module read from the monolith's config, and where its keys and counts are. */
export interface UsersServiceOptions {
  /** The store both sides share for signing keys and throttle counts (ADR 0333): the monolith's database. */
  keyStore: Knex;
  tokenTtlSeconds: number;
  rotateAfterMs: number;
  announceMs: number;
  /** How often the service reads its signing key again (default 30 s; tests shorten it with the announcement). */
  rereadMs?: number;
  throttle: ThrottleLimits;
  /** The proxies whose X-Forwarded-For is believed (TRUST_PROXY); loopback when unset. */
  trustProxy?: string[];
}

/**
 * The service's composition root: where the module got a ModuleContext, this gets the service
 * kit's parts (its own database and outbox) and the shared key store. Everything below it is the
 * module's code, moved. It verifies its own tokens in-process from the key store, as the module
 * does, rather than through the gateway's JWKS, which would route back to itself.
 */
export function defineUsersService(parts: ServiceParts, options: UsersServiceOptions): ServiceDefinition {
  const counter = throttleRepository(options.keyStore);
  const keyRing = createKeyRing(signingKeysRepository(options.keyStore), parts.logger, {
    rotateAfterMs: options.rotateAfterMs,
    announceMs: options.announceMs,
    tokenTtlMs: options.tokenTtlSeconds * 1000,
    rereadMs: options.rereadMs,
  });
  const users: UsersContext = {
    knex: parts.knex,
    outbox: parts.outbox,
    events: accountEvents(parts.outbox),
    users: usersRepository,
    isEmailTaken,
    keys: keyRing,
    tokenTtlSeconds: options.tokenTtlSeconds,
    throttle: createAttemptThrottle(counter, options.throttle),
  };
  const verifier = createTokenVerifier({ getKey: () => keyRing.jwks() });
  let sweeper: NodeJS.Timeout | undefined;
  let rotation: NodeJS.Timeout | undefined;
  const keepKeysCurrent = () => keyRing.keepCurrent().catch((err) => parts.logger.warn({ err }, 'signing key rotation check failed'));
  return {
    name: SERVICE_NAME,
    domain: 'users',
    schemas: [{ schema: USERS_SCHEMA, migrations }],
    trustProxy: options.trustProxy,
    // Not ready to log anyone in until the key store answers and the monolith has migrated it.
    readinessChecks: { 'key store': () => keyStoreReady(options.keyStore) },
    router: usersRouter(users, verifier),
    // The monolith's registrations and profile changes (before the switch, after a switch back, and
    // any in flight during one) keep arriving as its events. A version tie goes to the service's
    // own write, as the module's sync decides too.
    subscriptions: userSyncSubscriptions({ consumer: 'users-service-sync', from: 'monolith', fromWinsTies: false }),
    async start() {
      // The same timers as the module's: on one key store, a rotation by either side locks the
      // signing key's row, so both checking makes one successor, and sweeping twice is harmless.
      sweeper = setInterval(() => {
        counter.sweep().catch((err) => parts.logger.warn({ err }, 'sweeping ended throttle windows failed'));
      }, Math.max(options.throttle.windowMs, 60_000));
      sweeper.unref();
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

/** For tests and embedding: the service on given databases, listening wherever the caller serves it. */
export function buildUsersService(deps: { knex: Knex; logger: Logger } & UsersServiceOptions) {
  const { knex, logger, ...options } = deps;
  return buildService({ knex, logger, name: SERVICE_NAME, verifier: createTokenVerifier({ getKey: async () => ({ keys: [] }) }) }, (parts) =>
    defineUsersService(parts, options),
  );
}

/** The service's options from its configuration (main.ts), the key store's pool made by the caller. */
export const usersServiceOptions = (
  config: {
    TOKEN_TTL_SECONDS: number;
    USERS_KEY_ROTATE_AFTER_MS: number;
    USERS_KEY_ANNOUNCE_MS: number;
    USERS_THROTTLE_WINDOW_MS: number;
    USERS_LOGIN_FAILURES_PER_ACCOUNT: number;
    USERS_LOGIN_ATTEMPTS_PER_ADDRESS: number;
    USERS_REGISTRATIONS_PER_ADDRESS: number;
    TRUST_PROXY: string[];
  },
  keyStore: Knex,
): UsersServiceOptions => ({
  keyStore,
  trustProxy: config.TRUST_PROXY,
  tokenTtlSeconds: config.TOKEN_TTL_SECONDS,
  rotateAfterMs: config.USERS_KEY_ROTATE_AFTER_MS,
  announceMs: config.USERS_KEY_ANNOUNCE_MS,
  throttle: {
    windowMs: config.USERS_THROTTLE_WINDOW_MS,
    loginFailuresPerAccount: config.USERS_LOGIN_FAILURES_PER_ACCOUNT,
    loginAttemptsPerAddress: config.USERS_LOGIN_ATTEMPTS_PER_ADDRESS,
    registrationsPerAddress: config.USERS_REGISTRATIONS_PER_ADDRESS,
  },
});

export { loadUsersServiceConfig, usersServiceEnv } from './config';
