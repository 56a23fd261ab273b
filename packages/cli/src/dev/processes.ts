import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Domain, Migration } from '@banyan/migration';

export interface ProcessSpec {
  name: string;
  /** The compiled entry: absolute, or relative to the repository root. */
  entry: string;
  /** Where it answers /healthz once up, and what to print for people. */
  url?: string;
  readyUrl?: string;
  env?: Record<string, string>;
  /** Node/V8 flags of this process alone, appended to NODE_OPTIONS (e.g. the gateway's heap sizing). */
  nodeOptions?: string;
  /** Processes that must answer their readyUrl (or time out) before this one first starts. */
  startAfter?: string[];
}

/**
 * The gateway's young generation is capped at 8 MiB (ADR 0211): Node 24's V8 lets it grow to
 * several times that under a proxy's allocation rate, which doubled the gateway's resident memory
 * against Node 20 for no measurable throughput. The same flag is in every way the gateway is
 * launched (gateway/package.json, docker-compose.yml, deploy/banyan.ts, the benchmarks).
 */
export const GATEWAY_NODE_OPTIONS = '--max-semi-space-size=8';

const port = (env: NodeJS.ProcessEnv, name: string, fallback: number) => Number(env[name] ?? fallback);

/** The compiled `@banyan/telemetry/register`, relative to the repository root. */
export const TELEMETRY_PRELOAD = 'packages/telemetry/dist/register.js';

/**
 * `--require` of the telemetry preload, through NODE_OPTIONS so it reaches the entry however the
 * supervisor starts it: OpenTelemetry starts before the entry loads http, express, pg and
 * amqplib, which is what lets it instrument them. Appended to the caller's own NODE_OPTIONS.
 * An absolute, quoted path: the supervisor's working directory may be anywhere in the repo.
 */
function withTelemetryPreload(root: string, env: NodeJS.ProcessEnv): string {
  const preload = `--require ${JSON.stringify(path.join(root, TELEMETRY_PRELOAD))}`;
  return env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ${preload}` : preload;
}

/** A URL's port, or the scheme's default. */
const portOf = (url: string) => {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
};

/** `{gateway}`, `{gatewayAdmin}` and `{monolith}` in a declared start variable, as this table runs them. */
const expand = (value: string, urls: Record<string, string>) => value.replace(/\{(gateway|gatewayAdmin|monolith)\}/g, (_, name: string) => urls[name]);

/**
 * Every process this repository runs, in start order: the monolith, the relay, each domain's
 * service that the migration declaration says how to start (`domains.<name>.service.start`), and
 * the gateway. A process whose entry has not been built (its workspace does not exist yet) is
 * skipped, so the declaration can list what the repo grows into.
 *
 * `migration` is the declaration as declared, resolved without the environment: this table applies
 * `env` itself, because a service's URL set in the environment is what the others are told, while
 * the process started here still listens at its declared port (or `<DOMAIN>_SERVICE_PORT`).
 */
export function processTable(root: string, env: NodeJS.ProcessEnv, migration: Migration): ProcessSpec[] {
  const monolithPort = port(env, 'PORT', 3000);
  const gatewayPort = port(env, 'GATEWAY_PORT', 8080);
  const adminPort = port(env, 'GATEWAY_ADMIN_PORT', 8081);
  const relayPort = port(env, 'RELAY_PORT', 3199);
  // Every address one process gives another follows from the ports, so a second system on other
  // ports (the walkthrough test's) never calls into the first. An explicit URL still wins.
  const local = (p: number) => `http://127.0.0.1:${p}`;
  const domains = Object.values(migration.domains);
  // A service listens on <DOMAIN>_SERVICE_PORT, else on its declared URL's port; the others are
  // told its URL under its urlEnv (the value set there, else where it listens here).
  const servicePortOf = (d: Domain) => port(env, `${d.name.toUpperCase().replace(/-/g, '_')}_SERVICE_PORT`, portOf(d.service.url));
  const serviceUrl = (d: Domain) => (d.service.urlEnv && env[d.service.urlEnv]) || local(servicePortOf(d));
  const serviceUrls = Object.fromEntries(domains.filter((d) => d.service.urlEnv).map((d) => [d.service.urlEnv!, serviceUrl(d)]));
  const database = (d: Domain) => (d.service.databaseEnv && env[d.service.databaseEnv]) || d.service.database;
  const gatewayAdminUrl = env.GATEWAY_ADMIN_URL ?? local(adminPort);
  const monolithUrl = (migration.monolith.urlEnv && env[migration.monolith.urlEnv]) || local(monolithPort);
  const urls = { gateway: local(gatewayPort), gatewayAdmin: gatewayAdminUrl, monolith: monolithUrl };
  const table: ProcessSpec[] = [
    {
      name: 'monolith',
      entry: 'monolith/dist/main.js',
      url: local(monolithPort),
      readyUrl: `${local(monolithPort)}/readyz`,
      env: {
        PORT: String(monolithPort),
        // Where each service answers, for the monolith's doors to the extracted side (ADR 0302, 0311).
        ...serviceUrls,
        GATEWAY_ADMIN_URL: gatewayAdminUrl,
      },
    },
    {
      name: 'relay',
      entry: 'packages/relay/dist/main.js',
      // Probes and /metrics only (loopback): its URL is not one people open.
      readyUrl: `${local(relayPort)}/readyz`,
      env: { RELAY_PORT: String(relayPort) },
    },
    ...domains.flatMap((d): ProcessSpec[] => {
      if (!d.service.start) return [];
      const servicePort = servicePortOf(d);
      // The declaration's own variables first (an environment that sets one wins), then what this
      // table decides: explicit, so a PORT meant for the monolith never leaks into a service.
      const declared = Object.fromEntries(Object.entries(d.service.start.env).map(([name, value]) => [name, env[name] ?? expand(value, urls)]));
      return [
        {
          name: `${d.name}-svc`,
          entry: d.service.start.node,
          url: local(servicePort),
          readyUrl: `${local(servicePort)}/readyz`,
          env: {
            // Where the monolith and the other services answer, for a service that calls them (the
            // orders service's saga reserves and charges on either side, ADR 0314): without them it
            // would call the default ports, another system's when this one runs on others.
            ...(migration.monolith.urlEnv ? { [migration.monolith.urlEnv]: monolithUrl } : {}),
            ...serviceUrls,
            ...declared,
            PORT: String(servicePort),
            ...(database(d) ? { SERVICE_DATABASE: database(d)! } : {}),
            GATEWAY_ADMIN_URL: gatewayAdminUrl,
          },
        },
      ];
    }),
    {
      name: 'gateway',
      entry: 'gateway/dist/main.js',
      nodeOptions: GATEWAY_NODE_OPTIONS,
      url: local(gatewayPort),
      readyUrl: `${local(adminPort)}/readyz`,
      env: {
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_ADMIN_PORT: String(adminPort),
        // The gateway traces its own hop (ADR 0208); the http instrumentation would cost a third
        // more CPU per proxied request for no extra span.
        OTEL_NODE_DISABLED_INSTRUMENTATIONS: env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? 'http',
        ...(migration.monolith.urlEnv ? { [migration.monolith.urlEnv]: monolithUrl } : {}),
        ...serviceUrls,
      },
    },
  ];
  const NODE_OPTIONS = withTelemetryPreload(root, env);
  const built = table.filter((p) => existsSync(path.resolve(root, p.entry)));
  // The relay publishes the seed's events (the admin's user.registered, the demo catalog's) as soon
  // as it starts. With the history stream bound to every exchange (ADR 0110) `mandatory` no longer
  // holds back an event whose consumer's queue is not declared yet: it would go to the history
  // alone. So it starts once every process that consumes has declared its queues (is ready).
  const consumers = built.filter((p) => p.name !== 'relay' && p.name !== 'gateway').map((p) => p.name);
  return built.map((p) => ({
    ...p,
    ...(p.name === 'relay' ? { startAfter: consumers } : {}),
    env: { ...p.env, NODE_OPTIONS: p.nodeOptions ? `${NODE_OPTIONS} ${p.nodeOptions}` : NODE_OPTIONS },
  }));
}
