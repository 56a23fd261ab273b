import { databaseConnection } from '@banyan/config';
import { createKnex, describe, ensureDatabase } from '@banyan/db';
import { createLogger, shutdownTelemetry } from '@banyan/telemetry';
import { loadRelayConfig } from './config';
import { serveRelayHttp } from './http';
import { observeOutbox, relayMetrics } from './metrics';
import { createRelay, type Relay } from './relay';

/**
 * The relay process: `node packages/relay/dist/main.js`, configured by env (see config.ts).
 * SIGTERM/SIGINT finish the batch in flight and hand the leases over; a second signal exits at once.
 */
async function main() {
  const config = loadRelayConfig();
  const logger = createLogger('relay', config.LOG_LEVEL);
  const database = databaseConnection(config, config.RELAY_DATABASE);
  await ensureDatabase(database);

  // Up before the schema wait, so a probe sees a live (not yet ready) process rather than nothing.
  // A pool of its own for probes and scrapes: they must not queue behind the relay's batches.
  const probes = createKnex(database, { min: 0, max: 1 });
  // Assigned after the schema wait; probes and scrapes that come earlier see no relay yet.
  // eslint-disable-next-line prefer-const
  let relay: Relay | undefined;
  let started = false;
  const metrics = relayMetrics(() => relay?.stats);
  const stopObserving = observeOutbox(probes, config.RELAY_DATABASE);
  // Relaying matters more than being probed: a second relay on the same host and port (the docs
  // allow many relays) keeps running without HTTP rather than crash-looping over a port.
  const served = await serveRelayHttp({
    host: config.RELAY_HOST,
    port: config.RELAY_PORT,
    ready: async () => started && (await probes.raw('SELECT 1').then(() => true, () => false)),
  }).catch((err: Error) => {
    logger.error({ err: err.message, port: config.RELAY_PORT }, 'relay serves no /healthz, /readyz or /metrics: give each relay on a host its own RELAY_PORT');
    return undefined;
  });
  if (served) logger.info({ url: served.url }, 'relay probes and metrics listening');

  await waitForOutboxSchema(database, logger);

  relay = createRelay({
    database,
    url: config.RABBITMQ_URL,
    logger,
    namespace: config.RELAY_NAMESPACE,
    batchSize: config.RELAY_BATCH_SIZE,
    batchesInFlight: config.RELAY_BATCHES_IN_FLIGHT,
    pollIntervalMs: config.RELAY_POLL_INTERVAL_MS,
    leaseTtlMs: config.RELAY_LEASE_TTL_MS,
    confirmTimeoutMs: config.RELAY_CONFIRM_TIMEOUT_MS,
    heartbeatSeconds: config.RELAY_HEARTBEAT_SECONDS,
    parkAfterAttempts: config.RELAY_PARK_AFTER_ATTEMPTS,
    retryDelayMs: config.RELAY_RETRY_DELAY_MS,
    retentionMs: config.RELAY_RETENTION_HOURS * 3600_000,
    cleanupIntervalMs: config.RELAY_CLEANUP_INTERVAL_MS,
    historyMaxBytes: Math.round(config.RELAY_HISTORY_MAX_GB * 1e9),
    afterConfirm: metrics.afterConfirm,
  });
  await relay.start();
  started = true;
  logger.info({ database: describe(database) }, 'relay running');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'relay stopping');
    started = false;
    const stop = async () => {
      await relay!.stop();
      metrics.close();
      stopObserving();
      await served?.close();
      await probes.destroy();
      // Last, so the spans of the final batch leave the process (the preload's own flush steps
      // aside because this process handles the signal itself).
      await shutdownTelemetry();
    };
    stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err }, 'relay stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * The outbox schema belongs to the process that writes it (the monolith or a service) and is
 * migrated there; the relay only waits for it, so two processes never race on one migration.
 */
async function waitForOutboxSchema(database: Parameters<typeof createKnex>[0], logger: ReturnType<typeof createLogger>) {
  const knex = createKnex(database, { max: 1 });
  try {
    for (let waited = 0; ; waited += 500) {
      const { rows } = await knex.raw<{ rows: Array<{ ready: boolean }> }>(`SELECT to_regclass('outbox.relay_leases') IS NOT NULL AS ready`);
      if (rows[0].ready) return;
      if (waited % 10_000 === 0) logger.info({ database: describe(database) }, 'waiting for the outbox schema to be migrated');
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await knex.destroy();
  }
}

main().catch((err: Error) => {
  console.error(`relay: ${err.message}`);
  process.exit(1);
});
