import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { createTokenVerifier, type TokenVerifier } from '@banyan/auth';
import { migrate, type ConnectionSettings, type Knex } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import { createAdminApp } from './admin';
import type { GatewayConfig } from './config';
import { connectionFor, outboxDatabases, syncEnv } from './dashboard/databases';
import { createOutboxReader } from './dashboard/outbox';
import type { BreakerView } from './dashboard/routes';
import { createTrafficRates } from './dashboard/stats';
import { createVerifyRunner } from './dashboard/verify';
import { DEFAULT_COMPARE_RULES, DOMAINS, serviceUrls, type CompareRules, type Domain, type Side } from './domains';
import { createWriteFence, writesTo, type WriteFence } from './fence';
import { createOutboxDrainCheck } from './fence-outbox';
import { createHandler } from './handler';
import { createMetrics } from './metrics';
import { createOverrideCheck } from './override';
import { createForwarder, type Attempt } from './proxy';
import { createRecentWrites } from './recent-write';
import { createShadowRecorder } from './shadow';
import { createRouteStore, gatewaySchema, listenForChanges } from './store';
import { INITIAL_TABLE, tableFrom, type RouteTable } from './table';
import { createAgent, createUpstreams, type Upstream } from './upstreams';
import type { FrontDoor } from './server';

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  /** The gateway's own database (banyan_gateway). */
  knex: Knex;
  /** The same database's settings, for the LISTEN connection. */
  connection: ConnectionSettings;
  /** Per-domain shadow comparison rules; defaults to DEFAULT_COMPARE_RULES. */
  compareRules?: Partial<Record<Domain, CompareRules>>;
  /** Defaults to the JWKS at GATEWAY_JWKS_URL (or the monolith's users module). */
  verifier?: TokenVerifier;
  /** Node's process metrics (off in tests that build several gateways in one process). */
  defaultMetrics?: boolean;
  /**
   * The switch fence's outbox question (ADR 0303); defaults to reading the old side's outbox.
   * Tests with stub upstreams pass their own.
   */
  outboxDrained?: (domain: Domain, sides: Side[]) => Promise<boolean>;
  /** With `outboxDrained`: the fence's other question, whether the new side has applied them (absent: the settle period). */
  switchApplied?: (domain: Domain, oldSides: Side[], newSide: Side, sinceMs: number) => Promise<boolean | undefined>;
}

export interface Gateway {
  /** Public traffic, for node:http's server directly (see `listen`); no body parser runs before it. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The public port's deadlines and caps from the config, for `listen` (server.ts). */
  frontDoor: FrontDoor;
  /** The same handler as an express app, for a host that wants to mount it (costs express's per-request work). */
  app: Express;
  /** The admin API and dashboard, for its own (loopback) port. */
  adminApp: Express;
  /** Migrate, seed, load the routing table and subscribe to its changes. */
  start(): Promise<void>;
  stop(): Promise<void>;
  table(): RouteTable;
  /** Re-read the routing table now (also what a NOTIFY triggers). */
  reload(): Promise<void>;
  /** The switch fence, for tests and diagnostics (ADR 0303). */
  fence: Pick<WriteFence, 'active' | 'isFenced' | 'inFlight'>;
}

/**
 * `run`, never twice at once: a call while it runs asks for one more run after it (however many
 * calls came meanwhile) and gets the promise of the runs in progress.
 */
function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await run();
        } while (again);
      } finally {
        // Cleared here, not in a .finally() a microtask later: a call in between would set
        // `again` on a loop that has already ended, and its run would be lost.
        running = undefined;
      }
    })();
    return running;
  };
}

/** How often an instance reports itself, and how long another counts it as alive after that. */
const INSTANCE_HEARTBEAT_MS = 1_000;
const INSTANCE_LIVE_MS = 3_000;

/** Build the gateway without listening (tests serve it on port 0; main.ts on the configured ports). */
export function buildGateway(deps: GatewayDeps): Gateway {
  const { config, logger, knex } = deps;
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics });
  const store = createRouteStore(knex);
  const agent = createAgent(config.GATEWAY_MAX_SOCKETS);
  const forwarder = createForwarder({ agent, timeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS, socketWaitMs: config.GATEWAY_SOCKET_WAIT_MS });
  const upstreams = createUpstreams(config, metrics, forwarder.attempt);
  const services = serviceUrls(config);
  const upstream = (domain: Domain, side: Side) => upstreams.get(side === 'monolith' ? config.MONOLITH_URL : services[domain]) as Upstream<[IncomingMessage, ServerResponse, Upstream], Attempt>;
  const verifier = deps.verifier ?? createTokenVerifier({ jwksUrl: config.GATEWAY_JWKS_URL ?? new URL('/api/users/.well-known/jwks.json', config.MONOLITH_URL).href });
  const shadow = createShadowRecorder({
    rules: { ...DEFAULT_COMPARE_RULES, ...deps.compareRules },
    maxMismatches: config.GATEWAY_SHADOW_MAX_MISMATCHES,
    noise: config.GATEWAY_SHADOW_NOISE,
    metrics,
  });

  const drainCheck = deps.outboxDrained ? undefined : createOutboxDrainCheck(config);
  // Other gateway instances on the same routing table (ADR 0303): each reports what it routes by
  // and which domains' writes it still sends to an old side, so every instance's fence waits for
  // all of them. Serialised and coalesced like reload: the row always ends with the latest state.
  const instanceId = randomUUID();
  let stopped = false;
  const report = coalesced(async () => {
    // Read when it runs, not when asked: a switch reports once its new table is in place.
    await new Promise((r) => setImmediate(r));
    // A stopping instance's row is deleted, and must not come back from a late report.
    if (stopped) return;
    try {
      await store.reportInstance(instanceId, table.version, fence.writingOld());
    } catch (err) {
      logger.debug({ err: (err as Error).message }, 'gateway instance heartbeat failed');
    }
  });
  const fence = createWriteFence({
    settleMs: config.GATEWAY_SWITCH_SETTLE_MS,
    maxMs: config.GATEWAY_SWITCH_FENCE_MAX_MS,
    drained: deps.outboxDrained ?? drainCheck!.drained,
    applied: deps.outboxDrained ? deps.switchApplied : drainCheck!.applied,
    others: async (domain, version) => (await store.instancesWritingOld(instanceId, domain, version, INSTANCE_LIVE_MS)).length === 0,
    onOwnWritesSettled: () => void report(),
    metrics,
    logger,
  });

  let table = INITIAL_TABLE;
  let loaded = false;
  let databaseReachable = false;
  const swap = (next: RouteTable) => {
    // Never go back: a slow read that started before a newer one finished must not win.
    if (next.version < table.version) return;
    if (next.version !== table.version) logger.info({ version: next.version }, 'routing table updated');
    // A switch of where a domain's writes go raises its fence on this instance, whether the change
    // came by NOTIFY or by the poll. The first read is not a switch: nothing was routed before it.
    if (loaded && next.version !== table.version) {
      for (const [domain, row] of next.rows) {
        const before = table.rows.get(domain);
        if (before && writesTo(before) !== writesTo(row)) fence.switched(domain, before, row);
      }
    }
    const changed = next.version !== table.version;
    table = next;
    loaded = true;
    metrics.tableVersion.set(next.version);
    if (changed) void report();
  };

  // Reloads are serialised and coalesced: a burst of notifications costs at most two reads.
  const reload = coalesced(async () => {
    try {
      swap(tableFrom(await store.load()));
      if (!databaseReachable) logger.info('routing database reachable');
      databaseReachable = true;
    } catch (err) {
      // Keep serving with the last known table; say so once, not per poll.
      if (databaseReachable || !loaded) logger.error({ err: (err as Error).message }, 'routing database unreachable: serving the last known routing table');
      databaseReachable = false;
    }
  });

  const listener = listenForChanges(deps.connection, () => void reload(), logger);
  let poll: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let cookieKey: Buffer | undefined;

  const handler = createHandler({
    config,
    logger,
    metrics,
    forwarder,
    agent,
    table: () => table,
    upstream,
    overrideCheck: createOverrideCheck(config.BANYAN_ADMIN_TOKEN, verifier),
    shadow,
    fence,
    recentWrites: config.GATEWAY_READ_YOUR_WRITES_MS > 0 ? createRecentWrites(() => cookieKey, config.GATEWAY_READ_YOUR_WRITES_MS) : undefined,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(handler);

  const outbox = createOutboxReader({ databases: outboxDatabases(config), connection: (database) => connectionFor(config, database), knex });
  // Every configured upstream, used or not, with the domains it serves (the monolith serves all).
  const upstreamDomains = new Map<string, Domain[]>([[config.MONOLITH_URL, [...DOMAINS]]]);
  for (const domain of DOMAINS) {
    const served = upstreamDomains.get(services[domain]) ?? [];
    if (!served.includes(domain)) upstreamDomains.set(services[domain], [...served, domain]);
  }
  const breakers = (): BreakerView[] =>
    [...upstreamDomains].map(([url, domains]) => {
      const breaker = upstreams.peek(url)?.breaker;
      return {
        upstream: new URL(url).host,
        url,
        domains,
        state: breaker?.opened ? 'open' : breaker?.halfOpen ? 'half-open' : 'closed',
        used: breaker !== undefined,
      };
    });

  const adminApp = createAdminApp({
    config,
    logger,
    metrics,
    store,
    shadow,
    table: () => table,
    targets: (domain) => ({ monolith: config.MONOLITH_URL, extracted: services[domain] }),
    isLoaded: () => loaded,
    isDatabaseReachable: () => databaseReachable,
    reload,
    dashboard: { rates: createTrafficRates(metrics), breakers, outbox, verifier: createVerifyRunner(syncEnv(config)) },
  });

  const frontDoor: FrontDoor = {
    headersTimeoutMs: config.GATEWAY_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.GATEWAY_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderBytes: config.GATEWAY_MAX_HEADER_BYTES,
    maxConnectionsPerClient: config.GATEWAY_MAX_CONNECTIONS_PER_CLIENT,
    onRefused: () => metrics.rejected.labels('connection-cap').inc(),
  };

  return {
    handler,
    frontDoor,
    app,
    adminApp,
    table: () => table,
    reload,
    fence,
    async start() {
      await migrate(knex, [gatewaySchema]);
      await store.seed();
      await store.forgetSilentInstances(INSTANCE_LIVE_MS * 10);
      cookieKey = await store.sharedKey('read-your-writes');
      await reload();
      await listener.start();
      poll = setInterval(() => void reload(), config.GATEWAY_ROUTES_POLL_MS);
      poll.unref();
      await report();
      heartbeat = setInterval(() => void report(), INSTANCE_HEARTBEAT_MS);
      heartbeat.unref();
    },
    async stop() {
      if (poll) clearInterval(poll);
      if (heartbeat) clearInterval(heartbeat);
      await listener.stop();
      stopped = true;
      await report(); // waits for a report in progress; reports nothing more
      await store.forgetInstance(instanceId).catch(() => undefined);
      fence.stop();
      await drainCheck?.close();
      upstreams.shutdown();
      agent.destroy();
      await outbox.close();
    },
  };
}
