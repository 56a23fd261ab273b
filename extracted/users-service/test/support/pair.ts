import { serve, type Served } from '@banyan/http';
import { removeTopology, startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, http, testNamespace, type TestDatabase } from '@banyan/testing';
import type { GatewayHarness, startGateway } from '../../../../gateway/test/support/gateway';
import { startMonolith, type MonolithHarness } from '../../../../monolith/test/support/harness';
import { buildUsersService, type UsersServiceOptions } from '../../src/app';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The users variables both sides get, so they sign, rotate and throttle alike. */
export interface UsersSettings {
  tokenTtlSeconds: number;
  announceMs: number;
  /** The service's signing-key reread period (the monolith keeps its 30 s). */
  rereadMs?: number;
  loginFailuresPerAccount: number;
  loginAttemptsPerAddress: number;
}

const DEFAULTS: UsersSettings = {
  tokenTtlSeconds: 3600,
  announceMs: 2 * 86_400_000,
  // Every client of a test file is one address (loopback): the address limits stay out of reach.
  loginFailuresPerAccount: 1_000_000,
  loginAttemptsPerAddress: 1_000_000,
};

export interface UsersPair {
  mono: MonolithHarness;
  service: { db: TestDatabase; served: Served; api: ReturnType<typeof http>; built: ReturnType<typeof buildUsersService> };
  /** A real gateway in front of both, when asked for. */
  gateway?: GatewayHarness;
  close(): Promise<void>;
}

/**
 * The monolith and the users service as they run during the extraction: two account databases,
 * one key store (the monolith's users schema, ADR 0333), each side with its own relay and
 * consuming the other's user.account_changed from RabbitMQ under a namespace of this file's own.
 * `broker: false` leaves the relays and consumers out (a backfill test wants the service empty).
 */
export async function startUsersPair(label: string, options: {
    settings?: Partial<UsersSettings>;
    broker?: boolean;
    /** The gateway harness's start, passed by the files that switch, so the others never load the gateway's code. */
    gateway?: typeof startGateway;
  } = {},): Promise<UsersPair> {
  const settings = { ...DEFAULTS, ...options.settings };
  const logger = createLogger('users-pair', process.env.TEST_LOG_LEVEL ?? 'silent');
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const mono = await startMonolith(`${label}_mono`, {
      env: {
        TOKEN_TTL_SECONDS: String(settings.tokenTtlSeconds),
        USERS_KEY_ANNOUNCE_MS: String(settings.announceMs),
        USERS_LOGIN_FAILURES_PER_ACCOUNT: String(settings.loginFailuresPerAccount),
        USERS_LOGIN_ATTEMPTS_PER_ADDRESS: String(settings.loginAttemptsPerAddress),
      },
    });
    cleanups.push(() => mono.close());
    const db = await createTestDatabase(`${label}_svc`);
    cleanups.push(() => db.drop());
    const serviceOptions: UsersServiceOptions = {
      keyStore: mono.db.knex,
      tokenTtlSeconds: settings.tokenTtlSeconds,
      rotateAfterMs: mono.config.USERS_KEY_ROTATE_AFTER_MS,
      announceMs: settings.announceMs,
      rereadMs: settings.rereadMs,
      throttle: {
        windowMs: mono.config.USERS_THROTTLE_WINDOW_MS,
        loginFailuresPerAccount: settings.loginFailuresPerAccount,
        loginAttemptsPerAddress: settings.loginAttemptsPerAddress,
        registrationsPerAddress: 1_000_000,
      },
    };
    const built = buildUsersService({ knex: db.knex, logger, ...serviceOptions });
    await built.start();
    cleanups.push(() => built.stop());
    const served = await serve(built.app, 0);
    cleanups.push(() => served.close(1000));

    if (options.broker !== false) {
      const namespace = testNamespace(label);
      const consumers: Consumers[] = [];
      // Consumers first: they declare the queues, so no event published after this is dropped.
      consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions: mono.monolith.modules.users.syncSubscriptions ?? [], logger, namespace }));
      consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: db.knex, subscriptions: built.definition.subscriptions ?? [], logger, namespace }));
      // The relays publish as mandatory: user.registered needs its consumer, the monolith's
      // analytics, as in production, or it is returned unrouted and holds up its account's next events.
      const signups = mono.monolith.modules.analytics.subscriptions.filter((s) => s.eventType === 'user.registered');
      consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions: signups, logger, namespace }));
      cleanups.push(async () => {
        for (const c of consumers) await c.close();
        await removeTopology(RABBITMQ_URL, consumers.map((c) => c.topology));
      });
      const relays: Relay[] = [];
      cleanups.push(async () => {
        for (const relay of relays) await relay.stop();
      });
      for (const database of [mono.db.settings, db.settings]) {
        const relay = createRelay({ database, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100 });
        await relay.start();
        relays.push(relay);
      }
    }

    let gateway: GatewayHarness | undefined;
    if (options.gateway) {
      // The databases named so the gateway's switch fence reads both outboxes (ADR 0303).
      gateway = await options.gateway({
        label: `${label}_gw`,
        monolith: mono.served.url,
        services: { users: served.url },
        env: { MONOLITH_DATABASE: mono.db.settings.database, USERS_DATABASE: db.settings.database },
      });
      cleanups.push(() => gateway!.close());
    }
    return { mono, service: { db, served, api: http(served.url), built }, gateway, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export const accountRow = (knex: TestDatabase['knex'], email: string) =>
  knex('users.users').where({ email }).first('id', 'email', 'name', 'role', 'password_hash', 'version');
