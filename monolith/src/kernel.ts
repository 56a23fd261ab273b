import type { Router } from 'express';
import type { TokenVerifier } from '@banyan/auth';
import type { Knex, SchemaOwner } from '@banyan/db';
import type { Subscription } from '@banyan/inbox';
import type { Outbox } from '@banyan/outbox';
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
}

/** A module as the composition root sees it. `api` is its public door for other modules. */
export interface Module<Api = unknown> {
  name: string;
  /** Its own PostgreSQL schema and migrations. */
  schema: SchemaOwner;
  /** Mounted at `/api/<name>`. */
  router: Router;
  api: Api;
  /** Events it consumes (delivered from RabbitMQ through the inbox). */
  subscriptions: Subscription[];
  /** Background work (e.g. sending pending emails); started after migrations, stopped at shutdown. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
