import { existsSync } from 'node:fs';
import path from 'node:path';

export interface ProcessSpec {
  name: string;
  /** The compiled entry, relative to the repository root. */
  entry: string;
  /** Where it answers /healthz once up, and what to print for people. */
  url?: string;
  readyUrl?: string;
  env?: Record<string, string>;
  /** Node/V8 flags of this process alone, appended to NODE_OPTIONS (e.g. the gateway's heap sizing). */
  nodeOptions?: string;
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

/**
 * Every process this repository runs, in start order. A process whose entry has not been built
 * (its workspace does not exist yet) is skipped, so the table can list what the repo grows into.
 */
export function processTable(root: string, env: NodeJS.ProcessEnv): ProcessSpec[] {
  const monolithPort = port(env, 'PORT', 3000);
  const gatewayPort = port(env, 'GATEWAY_PORT', 8080);
  const adminPort = port(env, 'GATEWAY_ADMIN_PORT', 8081);
  const relayPort = port(env, 'RELAY_PORT', 3199);
  const services = ['users', 'products', 'orders', 'payments', 'notifications', 'analytics'];
  // Every address one process gives another follows from the ports, so a second system on other
  // ports (the walkthrough test's) never calls into the first. An explicit URL still wins.
  const local = (p: number) => `http://127.0.0.1:${p}`;
  const servicePortOf = (domain: string) => port(env, `${domain.toUpperCase()}_SERVICE_PORT`, 3101 + services.indexOf(domain));
  const serviceUrl = (domain: string) => env[`${domain.toUpperCase()}_SERVICE_URL`] ?? local(servicePortOf(domain));
  const gatewayAdminUrl = env.GATEWAY_ADMIN_URL ?? local(adminPort);
  const table: ProcessSpec[] = [
    {
      name: 'monolith',
      entry: 'monolith/dist/main.js',
      url: `http://127.0.0.1:${monolithPort}`,
      readyUrl: `http://127.0.0.1:${monolithPort}/readyz`,
      env: {
        PORT: String(monolithPort),
        // Where the products door reserves stock while products is extracted (ADR 0302).
        PRODUCTS_SERVICE_URL: serviceUrl('products'),
        PAYMENTS_SERVICE_URL: serviceUrl('payments'),
        GATEWAY_ADMIN_URL: gatewayAdminUrl,
      },
    },
    {
      name: 'relay',
      entry: 'packages/relay/dist/main.js',
      // Probes and /metrics only (loopback): its URL is not one people open.
      readyUrl: `http://127.0.0.1:${relayPort}/readyz`,
      env: { RELAY_PORT: String(relayPort) },
    },
    ...services.map((domain) => {
      const servicePort = servicePortOf(domain);
      return {
        name: `${domain}-svc`,
        entry: `extracted/${domain}-service/dist/main.js`,
        url: `http://127.0.0.1:${servicePort}`,
        readyUrl: `http://127.0.0.1:${servicePort}/readyz`,
        // Explicit, so a PORT meant for the monolith never leaks into a service.
        // The users domain's keys through the gateway, wherever GATEWAY_PORT put it: services
        // verify customers' tokens and the monolith's service tokens with them.
        env: {
          PORT: String(servicePort),
          USERS_JWKS_URL: env.USERS_JWKS_URL ?? `${local(gatewayPort)}/api/users/.well-known/jwks.json`,
          GATEWAY_ADMIN_URL: gatewayAdminUrl,
        },
      };
    }),
    {
      name: 'gateway',
      entry: 'gateway/dist/main.js',
      nodeOptions: GATEWAY_NODE_OPTIONS,
      url: `http://127.0.0.1:${gatewayPort}`,
      readyUrl: `http://127.0.0.1:${adminPort}/readyz`,
      env: {
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_ADMIN_PORT: String(adminPort),
        // The gateway traces its own hop (ADR 0208); the http instrumentation would cost a third
        // more CPU per proxied request for no extra span.
        OTEL_NODE_DISABLED_INSTRUMENTATIONS: env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? 'http',
        MONOLITH_URL: env.MONOLITH_URL ?? local(monolithPort),
        ...Object.fromEntries(services.map((domain) => [`${domain.toUpperCase()}_SERVICE_URL`, serviceUrl(domain)])),
      },
    },
  ];
  const NODE_OPTIONS = withTelemetryPreload(root, env);
  return table
    .filter((p) => existsSync(path.join(root, p.entry)))
    .map((p) => ({ ...p, env: { ...p.env, NODE_OPTIONS: p.nodeOptions ? `${NODE_OPTIONS} ${p.nodeOptions}` : NODE_OPTIONS } }));
}
