import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { createTokenVerifier, type TokenVerifier } from '@banyan/auth';
import { migrate, type ConnectionSettings, type Knex } from '@banyan/db';
import type { MigrationData } from '@banyan/migration';
import type { Logger } from '@banyan/telemetry';
import { createAdminApp } from './admin';
import type { GatewayConfig } from './config';
import { connectionFor, outboxDatabases, syncEnv } from './dashboard/databases';
import { createOutboxReader } from './dashboard/outbox';
import type { BreakerView } from './dashboard/routes';
import { createTrafficRates } from './dashboard/stats';
import { createHistory } from './dashboard/history';
import { createVerifyRunner } from './dashboard/verify';
import { syncSpecOf } from './dashboard/databases';
import { createPreflight } from './preflight';
import { createRampDriver } from './ramp/driver';
import { createRampStore } from './ramp/store';
import { createVerifyRuns } from './verify-runs';
import type { CompareRules, Domain, Side } from './domains';
import { createWriteFence, type WriteFence } from './fence';
import { createOutboxDrainCheck } from './fence-outbox';
import { createHandler } from './handler';
import { createInstanceHeartbeat } from './instances';
import { createMetrics } from './metrics';
import { createOverrideCheck } from './override';
import { createForwarder, type Attempt } from './proxy';
import { createRecentWrites } from './recent-write';
import { createRoutingState } from './routing-state';
import { createShadowRecorder } from './shadow';
import { domainOfKey } from './rules';
import { createRouteStore, gatewaySchema } from './store';
import type { RouteTable } from './table';
import { topologyOf, type Topology } from './topology';
import { createAgent, createUpstreams, type Upstream } from './upstreams';
import type { FrontDoor } from './server';

export interface GatewayDeps {
  config: GatewayConfig;
  /**
   * The migration's declaration, loaded and resolved as data (`loadMigrationData` in main.ts; a
   * test passes `validateMigration(defineMigration({...}), { env })`): the domains, their prefixes,
   * targets, sticky keys, compare rules, internal segments and data specs.
   */
  migration: MigrationData;
  logger: Logger;
  /** The gateway's own database (banyan_gateway). */
  knex: Knex;
  /** The same database's settings, for the LISTEN connection. */
  connection: ConnectionSettings;
  /** Per-domain shadow comparison rules instead of the declaration's (tests of the comparison). */
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
  /** This instance's id: its heartbeat row's, and a ramp's lease owner while it drives one. */
  instanceId: string;
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
  /** What the gateway took from the declaration. */
  topology: Topology;
}

/**
 * Build the gateway without listening (tests serve it on port 0; main.ts on the configured ports).
 * Throws MigrationDeclarationError when the declaration asks for what this gateway cannot do.
 */
export function buildGateway(deps: GatewayDeps): Gateway {
  const { config, logger, knex } = deps;
  const topology = topologyOf(deps.migration);
  const monolithUrl = topology.monolith.url;
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics });
  const store = createRouteStore(knex, topology.names, [...topology.rules.keys()]);
  const agent = createAgent(config.GATEWAY_MAX_SOCKETS);
  const forwarder = createForwarder({ agent, timeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS, socketWaitMs: config.GATEWAY_SOCKET_WAIT_MS });
  const upstreams = createUpstreams(config, metrics, forwarder.attempt);
  const serviceUrl = (domain: Domain) => topology.domain(domain).serviceUrl;
  const upstream = (domain: Domain, side: Side) => upstreams.get(side === 'monolith' ? monolithUrl : serviceUrl(domain)) as Upstream<[IncomingMessage, ServerResponse, Upstream], Attempt>;
  const verifier = deps.verifier ?? createTokenVerifier({ jwksUrl: config.GATEWAY_JWKS_URL ?? new URL('/api/users/.well-known/jwks.json', monolithUrl).href });
  const shadow = createShadowRecorder({
    // A route rule's responses are compared by its domain's rules, under its own key (ADR 0213).
    rules: new Map(
      [...topology.names, ...topology.rules.keys()].map((key) => {
        const d = domainOfKey(key);
        return [key, deps.compareRules?.[d] ?? topology.domain(d).compare];
      }),
    ),
    maxMismatches: config.GATEWAY_SHADOW_MAX_MISMATCHES,
    noise: config.GATEWAY_SHADOW_NOISE,
    metrics,
  });

  const drainCheck = deps.outboxDrained ? undefined : createOutboxDrainCheck(config, topology);
  // The preflight's and the ramp's sync lag read the same outboxes (pools opened at first use).
  const syncReader = drainCheck ?? createOutboxDrainCheck(config, topology);
  // The heartbeat, the fence and the routing state ask each other only when they run, after all
  // three are built: a report reads the table and the fence, a new table raises the fence.
  const instances = createInstanceHeartbeat({
    store,
    logger,
    state: () => ({ tableVersion: routing.table().version, writingOld: fence.writingOld() }),
  });
  const applied = deps.outboxDrained ? deps.switchApplied : drainCheck!.applied;
  const fence = createWriteFence({
    settleMs: config.GATEWAY_SWITCH_SETTLE_MS,
    maxMs: config.GATEWAY_SWITCH_FENCE_MAX_MS,
    // A route rule's fence (key `domain#rule`, ADR 0213) asks about its domain's outbox.
    drained: (key, sides) => (deps.outboxDrained ?? drainCheck!.drained)(domainOfKey(key), sides),
    applied: applied ? (key, oldSides, newSide, sinceMs) => applied(domainOfKey(key), oldSides, newSide, sinceMs) : undefined,
    others: instances.othersSettled,
    onOwnWritesSettled: () => void instances.report(),
    metrics,
    logger,
  });
  const tableListeners = new Set<() => void>();
  const onTableChange = (listener: () => void) => {
    tableListeners.add(listener);
    return () => void tableListeners.delete(listener);
  };
  const routing = createRoutingState({
    domains: topology.names,
    writeRules: [...topology.rules.values()].filter((r) => r.method !== 'GET' && r.method !== 'HEAD'),
    store,
    connection: deps.connection,
    logger,
    metrics,
    fence,
    onChanged: () => {
      void instances.report();
      for (const listener of [...tableListeners]) listener();
    },
  });
  const table = routing.table;
  const reload = routing.reload;
  let cookieKey: Buffer | undefined;

  const handler = createHandler({
    config,
    logger,
    metrics,
    forwarder,
    agent,
    topology,
    table,
    upstream,
    overrideCheck: createOverrideCheck(config.BANYAN_ADMIN_TOKEN, verifier),
    shadow,
    fence,
    recentWrites: config.GATEWAY_READ_YOUR_WRITES_MS > 0 ? createRecentWrites(() => cookieKey, config.GATEWAY_READ_YOUR_WRITES_MS) : undefined,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(handler);

  const verifyRuns = createVerifyRuns(knex);
  const hasSync = (domain: Domain) => syncSpecOf(topology, domain) !== undefined;
  const preflight = createPreflight({
    target: (domain, side) => (side === 'monolith' ? monolithUrl : serviceUrl(domain)),
    breaker(url) {
      const breaker = upstreams.peek(url)?.breaker;
      return !breaker ? 'unused' : breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
    },
    hasSync,
    lag: syncReader.lag,
    lastVerify: verifyRuns.latest,
    timeoutMs: config.GATEWAY_PREFLIGHT_TIMEOUT_MS,
    maxLagMs: config.GATEWAY_PREFLIGHT_MAX_LAG_MS,
    verifyMaxAgeMs: config.GATEWAY_PREFLIGHT_VERIFY_MAX_AGE_MS,
  });
  const ramps = createRampStore(knex);
  const rampDriver = createRampDriver({
    instanceId: instances.instanceId,
    ramps,
    routes: store,
    reload,
    preflight,
    metrics,
    routingKeys: [...topology.names, ...topology.rules.keys()],
    onTableChange,
    hasSync,
    lag: syncReader.lag,
    tickMs: config.GATEWAY_RAMP_TICK_MS,
    leaseMs: config.GATEWAY_RAMP_LEASE_MS,
    logger,
  });

  const history = createHistory(metrics, topology.names, config.GATEWAY_DASHBOARD_SAMPLE_MS);
  const outbox = createOutboxReader({ databases: outboxDatabases(config, topology), connection: (database) => connectionFor(config, database), knex });
  // Every configured upstream, used or not, with the domains it serves (the monolith serves all).
  const upstreamDomains = new Map<string, Domain[]>([[monolithUrl, [...topology.names]]]);
  for (const domain of topology.names) {
    const served = upstreamDomains.get(serviceUrl(domain)) ?? [];
    if (!served.includes(domain)) upstreamDomains.set(serviceUrl(domain), [...served, domain]);
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
    topology,
    table,
    targets: (domain) => ({ monolith: monolithUrl, extracted: serviceUrl(domain) }),
    isLoaded: routing.isLoaded,
    isDatabaseReachable: routing.isDatabaseReachable,
    reload,
    isFenced: fence.isFenced,
    onTableChange,
    dashboard: { rates: createTrafficRates(metrics, topology.names), breakers, outbox, verifier: createVerifyRunner(syncEnv(config), topology, (run) => verifyRuns.record({ ...run, recordedBy: 'dashboard' })), history, recordVerify: verifyRuns.record },
    preflight,
    ramps: { ramps, routes: store, reload, logger },
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
    instanceId: instances.instanceId,
    handler,
    frontDoor,
    app,
    adminApp,
    table,
    reload,
    fence,
    topology,
    async start() {
      await migrate(knex, [gatewaySchema]);
      await store.seed();
      await instances.forgetSilent();
      cookieKey = await store.sharedKey('read-your-writes');
      await routing.start(config.GATEWAY_ROUTES_POLL_MS);
      await instances.start();
      rampDriver.start();
      history.start();
    },
    async stop() {
      history.stop();
      await rampDriver.stop();
      await routing.stop();
      await instances.stop();
      fence.stop();
      await syncReader.close();
      upstreams.shutdown();
      agent.destroy();
      await outbox.close();
    },
  };
}
