import type { Router } from 'express';
import type { TokenVerifier } from '@banyan/auth';
import type { Knex, SchemaOwner } from '@banyan/db';
import type { Subscription } from '@banyan/inbox';
import type { Outbox } from '@banyan/outbox';
import type { RoutingView } from '@banyan/routing-client';
import type { Logger } from '@banyan/telemetry';
import type { MonolithConfig } from './config';

/**
 * What the composition root hands every module. Modules get infrastructure from here and other
 * modules' doors as explicit factory arguments, never by importing each other's files.
 */
export interface ModuleContext {
  knex: Knex;
  outbox: Outbox;
  logger: Logger;
  config: MonolithConfig;
  /** Verifies users-issued JWTs with the users module's public keys (JWKS). */
  verifier: TokenVerifier;
  /**
   * The gateway's routing table as this process last saw it. A module whose domain can be
   * extracted asks it where its writes belong (the payments door, the notifications consumer).
   */
  routing: RoutingView;
}

/** A module as the composition root sees it. `api` is its public door for other modules. */
export interface Module<Api = unknown> {
  name: string;
  /** Its own PostgreSQL schema and migrations. */
  schema: SchemaOwner;
  /** Mounted at `/api/<name>`. */
  router: Router;
  api: Api;
  /**
   * Events it consumes for its own work (delivered from RabbitMQ through the inbox). They stop
   * while the module's domain is routed to its extracted service, which then does that work, so
   * an effect (an email) never happens on both sides.
   */
  subscriptions: Subscription[];
  /**
   * Events it consumes to keep its tables in step with its extracted service (changes the
   * service made while it served the domain). These run whatever the routing, so switching
   * back loses nothing.
   */
  syncSubscriptions?: Subscription[];
  /** Background work (e.g. sending pending emails); started after migrations, stopped at shutdown. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
