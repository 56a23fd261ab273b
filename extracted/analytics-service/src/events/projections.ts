import type { ChannelModel } from 'amqplib';
import type { Knex } from '@banyan/db';
import { claimDefinition, ensureLiveProjection, projectionVersions, promoteIfCaughtUp } from '@banyan/sync';
import type { Logger } from '@banyan/telemetry';
import { ANALYTICS_SCHEMA, createProjectionTables, dropProjectionTables, NEWEST_DEFINITION, type Definition } from '../data/projection-tables';
import { connectBroker, HistoryReader } from './history-reader';

export interface ProjectionsOptions {
  knex: Knex;
  logger: Logger;
  url: string;
  stream: string;
  /** How often the versions table is read (a rebuild asked for, a version caught up). Default 250 ms. */
  checkIntervalMs?: number;
  batchSize?: number;
  /** The definition new versions are built with. Default the newest this code knows. */
  definition?: Definition;
}

/**
 * Keeps a reader on the history for every version that is live or building, lets a building
 * version take over once it has caught up with the live one, and drops the version it replaced
 * (ADR 0341). `banyan backfill analytics` only asks for a new version; this does the work.
 */
export function startProjections(options: ProjectionsOptions) {
  const { knex, logger } = options;
  const readers = new Map<number, HistoryReader>();
  let connection: ChannelModel | undefined;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> = Promise.resolve();
  let stopped = false;

  /** Versions whose definition is claimed and tables created, by this process: done once each. */
  const prepared = new Map<number, Definition>();
  const prepare = async (v: { version: number; schema: string }): Promise<Definition> => {
    let definition = prepared.get(v.version);
    if (definition === undefined) {
      definition = (await claimDefinition(knex, ANALYTICS_SCHEMA, v.version, options.definition ?? NEWEST_DEFINITION)) as Definition;
      await createProjectionTables(knex, v.schema, definition);
      prepared.set(v.version, definition);
    }
    return definition;
  };

  const dropVersion = async (version: number, schema: string) => {
    await readers.get(version)?.stop();
    readers.delete(version);
    prepared.delete(version);
    // Waits for reads still on it: they hold its row, and then its tables, until they finish.
    await dropProjectionTables(knex, schema);
    logger.info({ version }, 'projection version dropped');
  };

  const check = async () => {
    if (!connection) {
      connection = await connectBroker(options.url);
      connection.on('error', (err: Error) => logger.warn({ err: err.message }, 'history connection error'));
      connection.on('close', () => (connection = undefined));
    }
    const versions = await projectionVersions(knex, ANALYTICS_SCHEMA);
    for (const v of versions) {
      const reader = readers.get(v.version);
      if (reader?.running) continue;
      // Also a reader that stopped on a failed batch: it starts again from its committed offset.
      if (reader) await reader.stop();
      const definition = await prepare(v);
      const fresh = new HistoryReader(v, definition, { knex, connection, stream: options.stream, logger, batchSize: options.batchSize ?? 1_000 });
      readers.set(v.version, fresh);
      await fresh.start();
      logger.info({ version: v.version, state: v.state, definition, fromOffset: v.offset }, 'projection version reading the history');
    }
    for (const [version, reader] of readers) {
      if (!versions.some((v) => v.version === version)) await dropVersion(version, reader.version.schema);
    }
    if (versions.some((v) => v.state === 'building')) {
      const swap = await promoteIfCaughtUp(knex, ANALYTICS_SCHEMA);
      if (swap) {
        logger.info({ live: swap.promoted.version, offset: swap.promoted.offset, replaced: swap.retired.version }, 'projection version took over');
        await dropVersion(swap.retired.version, swap.retired.schema);
      }
    }
  };

  // Until the relay has declared the history stream the check fails four times a second: the
  // same failure is logged once, then at debug level.
  let lastFailure: string | undefined;
  const tick = () => {
    checking = check()
      .then(() => (lastFailure = undefined))
      .catch((err: Error) => {
        logger[err.message === lastFailure ? 'debug' : 'warn']({ err: err.message }, 'projection check failed; trying again');
        lastFailure = err.message;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.checkIntervalMs ?? 250);
      });
  };

  return {
    /** The first version (live at once) on a new database, then the readers. */
    async start() {
      // Its tables before anything else, so reports answer before the broker does.
      await prepare(await ensureLiveProjection(knex, ANALYTICS_SCHEMA));
      tick();
      await checking;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await checking;
      for (const reader of readers.values()) await reader.stop();
      await connection?.close().catch(() => undefined);
    },
  };
}
