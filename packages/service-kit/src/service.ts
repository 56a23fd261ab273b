import type { Express, Router } from 'express';
import { createTokenVerifier, type TokenVerifier } from '@banyan/auth';
import { migrate, ping, type Knex, type SchemaOwner } from '@banyan/db';
import { createHttpApp, finishHttpApp } from '@banyan/http';
import { inboxSchema, type Subscription } from '@banyan/inbox';
import { createOutbox, outboxSchema, type Outbox } from '@banyan/outbox';
import type { Logger } from '@banyan/telemetry';

/** What a service's composition root receives to build its parts. */
export interface ServiceParts {
  knex: Knex;
  outbox: Outbox;
  logger: Logger;
  verifier: TokenVerifier;
}

export interface ServiceDefinition {
  /** e.g. `products-service`: the outbox `origin` and the log name. */
  name: string;
  /** The domain whose routes it serves, mounted at `/api/<domain>`. */
  domain: string;
  schemas: SchemaOwner[];
  router: Router;
  /** Consumed whatever the routing (e.g. keeping current from the monolith's events). */
  subscriptions?: Subscription[];
  /**
   * The domain's own work (e.g. sending an email), consumed only while the gateway routes
   * `domain` to this service: the monolith module consumes the same queues the rest of the time.
   */
  routedSubscriptions?: Subscription[];
  /**
   * The proxies whose X-Forwarded-For is believed (express's `trust proxy`: names, addresses,
   * CIDRs), for a service that counts by client address; loopback when unset.
   */
  trustProxy?: string[];
  /** More /readyz checks beside the service's own database (e.g. a store it shares with another process). */
  readinessChecks?: Record<string, () => Promise<boolean>>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface BuiltService {
  app: Express;
  definition: ServiceDefinition;
  /** Migrate outbox, inbox and the service's schemas, then start its background work. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The part of an extracted service that is the same for every service: the outbox and inbox
 * schemas, the HTTP base (request ids, problem+json, health), and token verification against the
 * users domain's JWKS. `define` is the service's own composition root.
 */
export function buildService(
  deps: { knex: Knex; logger: Logger; jwksUrl?: string; verifier?: TokenVerifier; name: string },
  define: (parts: ServiceParts) => ServiceDefinition,
): BuiltService {
  const outbox = createOutbox({ source: `/banyan/${deps.name}`, origin: deps.name });
  const verifier = deps.verifier ?? createTokenVerifier({ jwksUrl: deps.jwksUrl! });
  const definition = define({ knex: deps.knex, outbox, logger: deps.logger, verifier });
  const app = createHttpApp({ logger: deps.logger, metrics: true, readinessChecks: { database: () => ping(deps.knex), ...definition.readinessChecks } });
  if (definition.trustProxy) app.set('trust proxy', definition.trustProxy);
  app.use(`/api/${definition.domain}`, definition.router);
  finishHttpApp(app);
  return {
    app,
    definition,
    async start() {
      await migrate(deps.knex, [outboxSchema, inboxSchema, ...definition.schemas]);
      await definition.start?.();
    },
    async stop() {
      await definition.stop?.();
    },
  };
}
