import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { parse } from 'yaml';
import { postgresEnv, rabbitEnv, smtpEnv, z } from '@banyan/config';
import { declarationProblems, declarationVariables, READS_DECLARATION } from './support/declaration';

/**
 * No Docker engine runs in CI, so docker-compose.yml and the Dockerfile are checked by reading
 * them: every app service must run a workspace that exists, with environment its own config
 * schema accepts, on the contract's ports, waiting only on dependencies that report health.
 */
const root = path.resolve(__dirname, '../..');

interface Service {
  build?: unknown;
  image?: string;
  command?: string[];
  restart?: string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  network_mode?: string;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
}

const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } } | null>;
};
const services = compose.services;
const appServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

/** The contract's port table (shared CONTRACT.md, "Ports"). */
const CONTRACT_PORTS: Record<string, number[]> = {
  monolith: [3000],
  gateway: [8080, 8081],
  'users-service': [3101],
  'products-service': [3102],
  'orders-service': [3103],
  'payments-service': [3104],
  'notifications-service': [3105],
  'analytics-service': [3106],
};

/** Dependencies on the ports the processes default to (from @banyan/config), plus the UIs the docs point at. */
const defaults = z.object({ ...postgresEnv, ...rabbitEnv, ...smtpEnv }).parse({});
const INFRA_PORTS: Record<string, number[]> = {
  postgres: [defaults.PGPORT],
  rabbitmq: [Number(new URL(defaults.RABBITMQ_URL).port), 15672],
  mailpit: [defaults.SMTP_PORT, 8025],
  jaeger: [16686, 4318],
};

/**
 * A value as compose would resolve it: `${VAR:-fallback}` with VAR unset, and `${VAR:?message}`
 * (a variable that must be set, in .env) with a stand-in of its own per variable, long enough for
 * any schema and safe inside a URL.
 */
const standIn = (name: string) => `${name.toLowerCase().replace(/_/g, '-')}-from-env`;
const resolve = (value: unknown) =>
  String(value ?? '')
    .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
    .replace(/\$\{([A-Z_][A-Z0-9_]*):\?[^}]*\}/g, (_, name: string) => standIn(name));

/** `${VAR:?message}`: compose refuses to start while VAR is unset or empty, printing the message. */
const REQUIRED = /^\$\{([A-Z_][A-Z0-9_]*):\?([^}]*)\}$/;
/** Variables (of the processes and of the postgres and rabbitmq images) that hold a secret. */
const SECRET_NAME = /(PASSWORD|TOKEN|SECRET|_PASS|_KEY)$/;

function entryOf(service: Service): string {
  const entry = (service.command ?? []).find((arg) => /\/dist\/[\w-]+\.js$/.test(arg));
  if (!entry) throw new Error(`command ${JSON.stringify(service.command)} names no workspace dist/*.js entry`);
  return entry;
}

const sourceOf = (entry: string) => entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
const workspaceOf = (entry: string) => entry.slice(0, entry.indexOf('/dist/'));

type Schema = z.ZodObject<z.ZodRawShape>;
const isZod = (v: unknown): boolean => typeof v === 'object' && v !== null && '_zod' in v;

/** The process's config schema: the zod object (or raw shape) its src/config.ts exports. */
function configSchemaOf(workspace: string): Schema {
  const file = path.join(root, workspace, 'src/config.ts');
  if (!existsSync(file)) throw new Error(`${workspace} has no src/config.ts to check the environment against`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exports = require(file) as Record<string, unknown>;
  for (const value of Object.values(exports)) {
    if (isZod(value) && typeof (value as Schema).shape === 'object') return value as Schema;
  }
  for (const value of Object.values(exports)) {
    if (value && typeof value === 'object' && !isZod(value) && Object.values(value).length && Object.values(value).every(isZod)) {
      return z.object(value as z.ZodRawShape);
    }
  }
  throw new Error(`${workspace}/src/config.ts exports no zod object schema`);
}

/** Variables an entry reads directly (seed-main.ts reads BANYAN_ADMIN_PASSWORD), outside its schema. */
const readDirectly = (source: string) => new Set([...readFileSync(path.join(root, source), 'utf8').matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((m) => m[1]));

function published(service: Service) {
  return (service.ports ?? []).map((spec) => {
    const parts = String(spec).split(':');
    const [hostIp, host, container] = parts.length === 3 ? parts : [undefined, ...parts];
    return { hostIp, host: Number(host), container: Number(container) };
  });
}

describe('docker-compose.yml', () => {
  test('runs at least the monolith, the relay and the gateway from the repository image', () => {
    expect(appServices.map(([name]) => name)).toEqual(expect.arrayContaining(['monolith', 'relay', 'gateway']));
  });

  test.each(appServices)('%s runs a workspace entry whose source exists, with the telemetry preload when long-running', (_name, service) => {
    const entry = entryOf(service);
    expect(existsSync(path.join(root, sourceOf(entry)))).toBe(true);
    if (service.restart !== 'no') {
      const cmd = service.command!;
      expect(cmd[cmd.indexOf('-r') + 1]).toBe('@banyan/telemetry/register');
      expect(cmd.indexOf('-r')).toBeLessThan(cmd.indexOf(entry));
    }
  });

  test.each(appServices)('%s sets only variables its process knows, with values its schema accepts', (_name, service) => {
    const entry = entryOf(service);
    const schema = configSchemaOf(workspaceOf(entry));
    const declared = READS_DECLARATION.has(entry) ? declarationVariables(root) : [];
    const known = new Set([...Object.keys(schema.shape), ...readDirectly(sourceOf(entry)), ...declared, 'NODE_ENV']);
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, resolve(v)]));
    const unknown = Object.keys(env).filter((k) => !known.has(k) && !k.startsWith('OTEL_'));
    expect(unknown).toEqual([]);
    if (READS_DECLARATION.has(entry)) expect(declarationProblems(root, env)).toEqual([]);

    const parsed = schema.safeParse(env);
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`)).toEqual([]);
  });

  // Long-running processes: the one-shot seed writes its database and follows no routing.
  test.each(appServices.filter(([, s]) => s.restart !== 'no'))('%s reaches its dependencies by compose service name, none left at a loopback default', (_name, service) => {
    // What the process will actually use: the compose environment over its schema's defaults. A
    // URL left at its default 127.0.0.1 would point the container at itself. A service URL of a
    // domain that has no service in the repository yet (users, orders, analytics) reaches nothing
    // wherever it points, and is left alone.
    const absent = (key: string) => /^[A-Z]+_SERVICE_URL$/.test(key) && !(`${key.split('_')[0].toLowerCase()}-service` in services);
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, resolve(v)]));
    // Parsing keeps only what the schema knows; OTEL_* (read by the SDK, not the schema) stay as set.
    const effective = { ...env, ...(configSchemaOf(workspaceOf(entryOf(service))).parse(env) as Record<string, unknown>) };
    const targets = Object.entries(effective).flatMap(([key, value]) => {
      if (typeof value !== 'string' || absent(key)) return [];
      if (/^(PGHOST|SMTP_HOST)$/.test(key)) return [[key, value]];
      if (/^[a-z]+:\/\//.test(value) && !/_HOST$/.test(key)) return [[key, new URL(value).hostname]];
      return [];
    });
    expect(targets.length).toBeGreaterThan(0);
    for (const [key, host] of targets) expect([key, Object.keys(services).includes(host) ? 'a compose service' : host]).toEqual([key, 'a compose service']);
  });

  test.each(appServices.filter(([name]) => CONTRACT_PORTS[name]))('%s listens on, publishes and probes the contract ports, reachable from outside its container', (name, service) => {
    const contract = CONTRACT_PORTS[name];
    const ports = published(service);
    expect(ports.map((p) => p.container).sort()).toEqual([...contract].sort());
    for (const p of ports) expect(p.host).toBe(p.container);

    const parsed = configSchemaOf(workspaceOf(entryOf(service))).parse(Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, resolve(v)])));
    const listen = Object.entries(parsed).filter(([k]) => /PORT$/.test(k) && !/^(PG|SMTP)/.test(k)).map(([, v]) => v);
    expect([...listen].sort()).toEqual([...contract].sort());
    const binds = Object.entries(parsed).filter(([k]) => /HOST$/.test(k) && !/^(PG|SMTP)/.test(k)).map(([, v]) => v);
    expect(binds.length).toBeGreaterThan(0);
    for (const bind of binds) expect(bind).toBe('0.0.0.0');

    const probe = (service.healthcheck?.test ?? []).join(' ');
    expect(contract.some((port) => probe.includes(`http://127.0.0.1:${port}/healthz`))).toBe(true);
  });

  test('the gateway admin API is published on the host loopback only', () => {
    const admin = published(services.gateway).find((p) => p.container === 8081);
    expect(admin?.hostIp).toBe('127.0.0.1');
  });

  test('When compose reads the file, then no secret has a default: every one is ${VAR:?…} saying to set it in .env', () => {
    // Every interpolation anywhere in the file (extension fields and comments included) is required.
    const interpolations = [...composeText.matchAll(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g)].map((m) => m[0]);
    expect(interpolations.length).toBeGreaterThan(0);
    expect(interpolations.filter((i) => !REQUIRED.test(i) || !/ \.env\b/.test(REQUIRED.exec(i)![2]))).toEqual([]);

    // Every secret a service is given is exactly one such variable, and so is every password in a URL.
    const secrets = Object.entries(services).flatMap(([name, s]) =>
      Object.entries(s.environment ?? {}).flatMap(([key, value]) => {
        const text = String(value ?? '');
        const inUrl = /^[a-z]+:\/\/[^/@:]*:([^@]*)@/.exec(text)?.[1];
        if (inUrl !== undefined) return [[name, key, inUrl]];
        return SECRET_NAME.test(key) ? [[name, key, text]] : [];
      }),
    );
    expect(secrets.map(([name, key]) => `${name} ${key}`)).toEqual(
      expect.arrayContaining(['postgres POSTGRES_PASSWORD', 'rabbitmq RABBITMQ_DEFAULT_PASS', 'monolith PGPASSWORD', 'monolith RABBITMQ_URL', 'gateway BANYAN_ADMIN_TOKEN', 'payments-service PAYMENTS_SERVICE_TOKEN', 'seed BANYAN_ADMIN_PASSWORD']),
    );
    expect(secrets.filter(([, , value]) => !REQUIRED.test(value))).toEqual([]);
  });

  test('When a developer copies .env.example, then it names exactly the variables compose requires, with no values', () => {
    const required = new Set([...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => m[1]));
    const lines = readFileSync(path.join(root, '.env.example'), 'utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const entries = lines.map((l) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(l.trim())).map((m, i) => (m ? [m[1], m[2]] : ['(not KEY=value)', lines[i]]));
    expect(entries.map(([key]) => key).sort()).toEqual([...required].sort());
    expect(entries.filter(([, value]) => value !== '')).toEqual([]);
    // And git never takes the filled-in copy.
    expect(readFileSync(path.join(root, '.gitignore'), 'utf8').split('\n')).toContain('.env');
  });

  test('When the containers start, then each process holds the credentials its dependency was created with, and services call each other with their own', () => {
    const env = (name: string) => services[name].environment ?? {};
    for (const [name] of appServices) expect([name, env(name).PGPASSWORD]).toEqual([name, env('postgres').POSTGRES_PASSWORD]);
    const broker = `amqp://${String(env('rabbitmq').RABBITMQ_DEFAULT_USER)}:${String(env('rabbitmq').RABBITMQ_DEFAULT_PASS)}@rabbitmq:5672`;
    for (const [name, s] of appServices.filter(([, s]) => s.environment?.RABBITMQ_URL !== undefined)) expect([name, s.environment?.RABBITMQ_URL]).toEqual([name, broker]);

    // The payments door's credential is its own: the same variable at both ends, not the admin
    // token's, and the payments service is not given the admin token at all.
    expect(env('monolith').PAYMENTS_SERVICE_TOKEN).toBe(env('payments-service').PAYMENTS_SERVICE_TOKEN);
    expect(REQUIRED.exec(String(env('payments-service').PAYMENTS_SERVICE_TOKEN))?.[1]).toBe('PAYMENTS_SERVICE_TOKEN');
    expect(env('payments-service').BANYAN_ADMIN_TOKEN).toBeUndefined();
  });

  test('When a request reaches the monolith through the gateway, then the monolith believes the gateway\'s X-Forwarded-For (TRUST_PROXY covers the compose network)', () => {
    // The monolith's `trust proxy`, exactly as monolith/src/app.ts sets it from its schema.
    const config = configSchemaOf('monolith').parse(Object.fromEntries(Object.entries(services.monolith.environment ?? {}).map(([k, v]) => [k, resolve(v)])));
    const app = express();
    app.set('trust proxy', (config as { TRUST_PROXY: string[] }).TRUST_PROXY);
    const trusted = app.get('trust proxy fn') as (address: string, hop: number) => boolean;

    // The gateway container's address: in a subnet the file declares, else in Docker's default
    // address pools (172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/16 in /20s).
    const subnets = Object.values(compose.networks ?? {}).flatMap((n) => (n?.ipam?.config ?? []).map((c) => c.subnet).filter((x): x is string => Boolean(x)));
    const gatewayAddresses = subnets.length
      ? subnets.map((subnet) => subnet.split('/')[0].replace(/\.0$/, '.2'))
      : ['172.17.0.3', '172.18.0.5', '172.31.255.2', '192.168.0.3', '192.168.240.7'];
    expect(gatewayAddresses.filter((address) => !trusted(address, 0))).toEqual([]);
    // A public client is never a proxy: it cannot choose the address the throttle counts.
    expect(trusted('203.0.113.9', 0)).toBe(false);
  });

  test('When the system runs, then only the gateway\'s public port is published on all interfaces; the rest on the host\'s loopback or not at all', () => {
    const everywhere = Object.entries(services).flatMap(([name, s]) => published(s).filter((p) => p.hostIp !== '127.0.0.1').map((p) => [name, p.container, p.hostIp ?? 'all interfaces']));
    expect(everywhere).toEqual([['gateway', 8080, 'all interfaces']]);
    // Host networking would publish every port the process listens on, whatever `ports` says.
    expect(Object.entries(services).filter(([, s]) => s.network_mode !== undefined).map(([name]) => name)).toEqual([]);
  });

  test('exports traces to Jaeger over OTLP/HTTP, with a service name per process', () => {
    expect(services.jaeger.image).toMatch(/^jaegertracing\/all-in-one:/);
    expect(services.jaeger.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
    for (const [name, service] of appServices.filter(([, s]) => s.restart !== 'no')) {
      expect([name, service.environment?.OTEL_EXPORTER_OTLP_ENDPOINT]).toEqual([name, 'http://jaeger:4318']);
      expect(service.environment?.OTEL_SERVICE_NAME).toBe(`banyan-${name}`);
    }
  });

  test('publishes the dependencies on the ports the processes default to', () => {
    for (const [name, ports] of Object.entries(INFRA_PORTS)) {
      expect([name, published(services[name]).map((p) => p.container).sort()]).toEqual([name, [...ports].sort()]);
    }
  });

  test('every depends_on target exists, reports health and is waited for until healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ service: name, target, exists: target in services, healthcheck: Boolean(services[target]?.healthcheck?.test), condition }).toEqual({
          service: name,
          target,
          exists: true,
          healthcheck: true,
          condition: 'service_healthy',
        });
      }
    }
  });

  test('every process workspace in the repository has its service, so `docker compose up` runs the whole system', () => {
    const candidates = [
      'monolith',
      'gateway',
      ...readdirSync(path.join(root, 'packages')).map((d) => `packages/${d}`),
      ...readdirSync(path.join(root, 'extracted')).map((d) => `extracted/${d}`),
    ].filter((ws) => existsSync(path.join(root, ws, 'src/main.ts')));
    const composed = new Set(appServices.map(([, s]) => workspaceOf(entryOf(s))));
    expect(candidates.filter((ws) => !composed.has(ws))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = Object.fromEntries(lines.filter((l) => /^ARG \w+=/.test(l)).map((l) => l.slice(4).split('=') as [string, string]));
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM /i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const final = stages.at(-1) ?? [];

  test('is multi-stage on an LTS Node image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      const image = stage[0].split(/\s+/)[1].replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
      // Node 24 LTS, the line npm ci installs as the `node` devDependency for the build (ADR 0004):
      // the runtime stage, with devDependencies pruned, runs on the image's own Node.
      expect(image).toMatch(/^node:24(\.|-|$)/);
    }
  });

  test('builds with npm ci and npm run build, then drops dev dependencies', () => {
    const build = stages.slice(0, -1).flat().join('\n');
    expect(build).toMatch(/RUN npm ci\b/);
    expect(build).toMatch(/RUN npm run build\b/);
    expect(build).toMatch(/npm prune --omit=dev/);
  });

  test('the final stage runs as a non-root user', () => {
    const user = final.filter((l) => /^USER /i.test(l)).at(-1)?.split(/\s+/)[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  test('its default command is a workspace entry that exists, with the telemetry preload', () => {
    const cmd = JSON.parse(final.find((l) => /^CMD /.test(l))!.slice(4)) as string[];
    expect(cmd.slice(0, 3)).toEqual(['node', '-r', '@banyan/telemetry/register']);
    expect(existsSync(path.join(root, sourceOf(cmd[3])))).toBe(true);
  });

  test('.dockerignore keeps host builds and dependencies out of the context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});
