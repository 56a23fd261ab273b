import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { z } from '@banyan/config';
import { OUTBOX_PARTITIONS } from '@banyan/outbox';
import { monolithConfigSchema } from '../../monolith/src/config';
import { gatewayConfigSchema } from '../../gateway/src/config';
import { relayConfigSchema } from '../../packages/relay/src/config';
import { productsServiceEnv } from '../../extracted/products-service/src/config';
import { usersServiceEnv } from '../../extracted/users-service/src/config';
import { paymentsServiceEnv } from '../../extracted/payments-service/src/config';
import { ordersServiceEnv } from '../../extracted/orders-service/src/config';
import { notificationsServiceEnv } from '../../extracted/notifications-service/src/config';
import { analyticsServiceEnv } from '../../extracted/analytics-service/src/config';
import { declarationProblems, declarationVariables, READS_DECLARATION } from './support/declaration';
import { CONNECTIONS_PER_INSTANCE, NAMES, SECRETS, defaultValues, render, type KubeObject, type Values } from '../../deploy/banyan';

/**
 * deploy/ without a cluster (ADR 0601): the objects deploy/banyan.ts renders are validated against
 * the Kubernetes and CloudNativePG schemas, and checked against what the processes really read
 * and serve: their zod config schemas, their health endpoints, their ports.
 */
const root = path.resolve(__dirname, '../..');
const toYaml = (data: unknown) => stringify(data, { lineWidth: 0 });
const objects = render(defaultValues, toYaml);
const withPooler: Values = { ...defaultValues, postgres: { ...defaultValues.postgres, pooler: 'session' } };

// Loose views of the typed objects, for reading them back generically.
type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
type Container = { name: string; image?: string; command?: string[]; ports?: { name?: string; containerPort: number }[]; env?: Env[]; resources?: any; readinessProbe?: any; livenessProbe?: any };
type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } };

const all = (list: KubeObject[] = objects) => list as unknown as Obj[];
const ofKind = (kind: string, list?: KubeObject[]) => all(list).filter((o) => o.kind === kind);
const named = (kind: string, name: string, list?: KubeObject[]) => ofKind(kind, list).find((o) => o.metadata.name === name);
const podContainers = (o: Obj): Container[] => o.spec?.template?.spec?.containers ?? [];
const workloads = (list?: KubeObject[]) => [...ofKind('Deployment', list), ...ofKind('Job', list)];

/** Each process's config schema, imported from its src/config.ts: the reference for its environment. */
const SCHEMAS: Record<string, z.ZodObject<z.ZodRawShape>> = {
  'monolith/dist/main.js': monolithConfigSchema as unknown as z.ZodObject<z.ZodRawShape>,
  'monolith/dist/seed-main.js': monolithConfigSchema as unknown as z.ZodObject<z.ZodRawShape>,
  'gateway/dist/main.js': gatewayConfigSchema,
  'packages/relay/dist/main.js': relayConfigSchema,
  'extracted/users-service/dist/main.js': z.object(usersServiceEnv),
  'extracted/products-service/dist/main.js': z.object(productsServiceEnv),
  'extracted/payments-service/dist/main.js': z.object(paymentsServiceEnv),
  'extracted/orders-service/dist/main.js': z.object(ordersServiceEnv),
  'extracted/notifications-service/dist/main.js': z.object(notificationsServiceEnv),
  'extracted/analytics-service/dist/main.js': z.object(analyticsServiceEnv),
};

/** The variable naming the port on which each entry answers /healthz and /readyz, and the file that serves them there. */
const HEALTH: Record<string, { port: string; servedBy: string; marker: RegExp }> = {
  'monolith/dist/main.js': { port: 'PORT', servedBy: 'monolith/src/app.ts', marker: /createHttpApp\(/ },
  'gateway/dist/main.js': { port: 'GATEWAY_ADMIN_PORT', servedBy: 'gateway/src/admin.ts', marker: /createHttpApp\(/ },
  'packages/relay/dist/main.js': { port: 'RELAY_PORT', servedBy: 'packages/relay/src/http.ts', marker: /'\/healthz'[\s\S]*'\/readyz'/ },
  'extracted/users-service/dist/main.js': { port: 'PORT', servedBy: 'packages/service-kit/src/service.ts', marker: /createHttpApp\(/ },
  'extracted/products-service/dist/main.js': { port: 'PORT', servedBy: 'packages/service-kit/src/service.ts', marker: /createHttpApp\(/ },
  'extracted/payments-service/dist/main.js': { port: 'PORT', servedBy: 'packages/service-kit/src/service.ts', marker: /createHttpApp\(/ },
  'extracted/orders-service/dist/main.js': { port: 'PORT', servedBy: 'packages/service-kit/src/service.ts', marker: /createHttpApp\(/ },
  'extracted/notifications-service/dist/main.js': { port: 'PORT', servedBy: 'packages/service-kit/src/service.ts', marker: /createHttpApp\(/ },
  'extracted/analytics-service/dist/main.js': { port: 'PORT', servedBy: 'packages/service-kit/src/service.ts', marker: /createHttpApp\(/ },
};

const entryOf = (c: Container) => (c.command ?? []).find((arg) => /\/dist\/[\w-]+\.js$/.test(arg));
const banyanContainers = (list?: KubeObject[]) =>
  workloads(list).flatMap((o) => podContainers(o).filter((c) => entryOf(c)).map((c) => ({ object: o, container: c, entry: entryOf(c)! })));
const longRunning = (list?: KubeObject[]) => banyanContainers(list).filter(({ object }) => object.kind === 'Deployment');

/** Secret values are never in the manifests: a stand-in per key, distinct, long enough for any schema, a URL where one is expected. */
const standIn = (ref: { name: string; key: string }) => (ref.key === 'url' ? `amqp://banyan:from-secret@${NAMES.rabbitmq}:5672` : `${ref.name}-${ref.key}-from-secret`);
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef ? standIn(e.valueFrom.secretKeyRef) : (e.value ?? '')]));
const readDirectly = (entry: string) =>
  new Set([...readFileSync(path.join(root, entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts')), 'utf8').matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((m) => m[1]));
const SECRET_NAME = /(PASSWORD|TOKEN|SECRET|_PASS|_KEY)$|^(RABBITMQ_URL|DATABASE_URL)$/;

const runNode = (args: string[], input?: string) => {
  const run = spawnSync(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', ...args], { cwd: root, input, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
};
const validate = (yamlText: string) => JSON.parse(runNode(['deploy/validate.mjs'], yamlText)) as { kind: string; name: string; errors: string | null }[];

/** The fields of a RabbitmqCluster Banyan relies on: its operator publishes no npm model, so zod checks them. */
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/);
const rabbitmqClusterSchema = z.object({
  apiVersion: z.literal('rabbitmq.com/v1beta1'),
  kind: z.literal('RabbitmqCluster'),
  metadata: z.object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) }),
  spec: z.object({
    replicas: z.number().int().min(3).refine((n) => n % 2 === 1, 'an odd number: quorum queues need a majority'),
    resources: z.object({ requests: z.object({ cpu: quantity, memory: quantity }), limits: z.object({ cpu: quantity, memory: quantity }) }),
    persistence: z.object({ storage: quantity }),
    rabbitmq: z.object({ additionalConfig: z.string().regex(/^default_queue_type = quorum$/m) }),
  }),
});

const cpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
const bytes = (q: string) => Number(/^\d+/.exec(q)![0]) * ({ Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[/[KMG]i$/.exec(q)?.[0] ?? ''] ?? 1);

describe('deploy/: the rendered manifests', () => {
  test('When deploy/render.mjs runs on Node, then it prints exactly the committed deploy/rendered/banyan.yaml', () => {
    const printed = runNode(['deploy/render.mjs']);
    expect(printed).toBe(readFileSync(path.join(root, 'deploy/rendered/banyan.yaml'), 'utf8'));
    expect(parseAllDocuments(printed).map((d) => d.toJS())).toEqual(JSON.parse(JSON.stringify(objects)));
  });

  test.each([
    ['the defaults', ''],
    ['PostgreSQL through a session-mode Pooler', JSON.stringify({ postgres: withPooler.postgres })],
  ])('With %s, every object validates against the Kubernetes and CloudNativePG schemas; the RabbitmqCluster against its fields in zod', (_label, override) => {
    const results = validate(runNode(['deploy/render.mjs', ...(override ? [override] : [])]));
    expect(results.length).toBe(override ? objects.length + 1 : objects.length);
    expect(results.filter((r) => r.errors !== null && !(r.kind === 'RabbitmqCluster' && r.errors === 'no model'))).toEqual([]);
    const rabbit = rabbitmqClusterSchema.safeParse(ofKind('RabbitmqCluster')[0]);
    expect(rabbit.success ? [] : rabbit.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
  });

  test('When the schemas check an object, then a wrong field fails (the validator is not a no-op)', () => {
    const broken = JSON.parse(JSON.stringify(named('Deployment', 'banyan-gateway')));
    broken.spec.replicas = 'two';
    expect(validate(toYaml(broken))[0].errors).toMatch(/replicas/);
  });

  test('every process workspace with a src/main.ts runs as a Deployment, from the one image, as docker-compose.yml runs it', () => {
    const workspaces = ['monolith', 'gateway', ...readdirSync(path.join(root, 'packages')).map((d) => `packages/${d}`), ...readdirSync(path.join(root, 'extracted')).map((d) => `extracted/${d}`)].filter((ws) =>
      existsSync(path.join(root, ws, 'src/main.ts')),
    );
    const deployed = new Set(longRunning().map(({ entry }) => entry.slice(0, entry.indexOf('/dist/'))));
    expect(workspaces.filter((ws) => !deployed.has(ws))).toEqual([]);
    for (const { container, entry } of banyanContainers()) {
      expect(existsSync(path.join(root, entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts')))).toBe(true);
      expect(container.image).toBe(`${defaultValues.image}:${defaultValues.release}`);
    }
    // Node flags may stand before the preload (the gateway's heap sizing, ADR 0211), nothing else.
    for (const { container, entry } of longRunning()) {
      const flags = container.command!.slice(1, container.command!.indexOf('-r'));
      expect(flags.every((f) => /^--[a-z-]+(=\S+)?$/.test(f))).toBe(true);
      expect(container.command).toEqual(['node', ...flags, '-r', '@banyan/telemetry/register', entry]);
    }
  });

  test('When the operator applies it, then no Secret is rendered: every secret is a required reference to one deploy/README.md tells them to create', () => {
    expect(ofKind('Secret')).toEqual([]);
    const readme = readFileSync(path.join(root, 'deploy/README.md'), 'utf8');
    const refs = workloads().flatMap((o) => podContainers(o).flatMap((c) => (c.env ?? []).map((e) => ({ where: `${o.metadata.name} ${e.name}`, e }))));
    // A secret-looking variable never has a literal value…
    expect(refs.filter(({ e }) => SECRET_NAME.test(e.name) && !e.valueFrom?.secretKeyRef).map(({ where }) => where)).toEqual([]);
    for (const { where, e } of refs.filter(({ e }) => e.valueFrom?.secretKeyRef)) {
      const ref = e.valueFrom!.secretKeyRef!;
      // …and each reference is to a known secret's key, required (no optional fallback to nothing).
      const known = Object.values(SECRETS).find((s) => s.name === ref.name);
      expect([where, ref.optional ?? false, (known?.keys as readonly string[] | undefined)?.includes(ref.key)]).toEqual([where, false, true]);
    }
    for (const s of Object.values(SECRETS)) {
      expect([s.name, readme.includes(`\`${s.name}\``)]).toEqual([s.name, true]);
      for (const key of s.keys) expect([s.name, key, readme.includes(key)]).toEqual([s.name, key, true]);
    }
    // The Cluster's role password and the processes' PGPASSWORD are the same Secret.
    expect(named('Cluster', NAMES.postgres)!.spec.managed.roles[0].passwordSecret.name).toBe(SECRETS.postgres.name);
  });

  test('every container of every workload has CPU and memory requests and limits, requests within limits', () => {
    const problems = workloads().flatMap((o) =>
      podContainers(o).flatMap((c) => {
        const { requests = {}, limits = {} } = c.resources ?? {};
        const where = `${o.metadata.name}/${c.name}`;
        if (!requests.cpu || !requests.memory || !limits.cpu || !limits.memory) return [`${where}: missing`];
        return cpu(requests.cpu) > cpu(limits.cpu) || bytes(requests.memory) > bytes(limits.memory) ? [`${where}: requests above limits`] : [];
      }),
    );
    expect(workloads().length).toBeGreaterThan(6);
    expect(problems).toEqual([]);
  });

  test.each(longRunning().map((x) => [x.object.metadata.name, x] as const))(
    '%s: readiness on /readyz and liveness on /healthz, at the port its config makes it serve them on, bound beyond loopback',
    (_name, { container, entry }) => {
      const config = SCHEMAS[entry].parse(envOf(container)) as Record<string, unknown>;
      const health = HEALTH[entry];
      const portOf = (probe: any) => container.ports?.find((p) => p.name === probe?.httpGet?.port)?.containerPort ?? probe?.httpGet?.port;
      expect([container.readinessProbe?.httpGet?.path, portOf(container.readinessProbe)]).toEqual(['/readyz', config[health.port]]);
      expect([container.livenessProbe?.httpGet?.path, portOf(container.livenessProbe)]).toEqual(['/healthz', config[health.port]]);
      expect(readFileSync(path.join(root, health.servedBy), 'utf8')).toMatch(health.marker);
      // Every declared container port is one the process listens on, on all interfaces.
      const listens = Object.entries(config).filter(([k]) => /PORT$/.test(k) && !/^(PG|SMTP)/.test(k)).map(([, v]) => v);
      for (const p of container.ports ?? []) expect(listens).toContain(p.containerPort);
      for (const [k, v] of Object.entries(config).filter(([k]) => /HOST$/.test(k) && !/^(PG|SMTP)/.test(k))) expect([k, v]).toEqual([k, '0.0.0.0']);
    },
  );

  test('createHttpApp (monolith, services, gateway admin) serves /healthz and /readyz', () => {
    const http = readFileSync(path.join(root, 'packages/http/src/app.ts'), 'utf8');
    expect(http).toMatch(/app\.get\('\/healthz'/);
    expect(http).toMatch(/app\.get\('\/readyz'/);
  });

  test.each(banyanContainers().map((x) => [`${x.object.metadata.name}/${x.container.name}`, x] as const))(
    '%s sets only variables its zod config schema knows, gives every one it requires, with values it accepts',
    (_name, { container, entry }) => {
      const schema = SCHEMAS[entry];
      expect(schema).toBeDefined();
      const env = envOf(container);
      const declared = READS_DECLARATION.has(entry) ? declarationVariables(root) : [];
      const known = new Set([...Object.keys(schema.shape), ...readDirectly(entry), ...declared, 'NODE_ENV']);
      expect(Object.keys(env).filter((k) => !known.has(k) && !k.startsWith('OTEL_'))).toEqual([]);
      if (READS_DECLARATION.has(entry)) expect(declarationProblems(root, env)).toEqual([]);
      const required = Object.entries(schema.shape).filter(([, s]) => !(s as z.ZodType).safeParse(undefined).success).map(([k]) => k);
      expect(required.filter((k) => !(k in env))).toEqual([]);
      const parsed = schema.safeParse(env);
      expect(parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`)).toEqual([]);
    },
  );

  test.each(longRunning().map((x) => [x.object.metadata.name, x] as const))('%s reaches every dependency at a Service this render creates, never a loopback default', (_name, { container, entry }) => {
    const services = new Map(ofKind('Service').map((s) => [s.metadata.name, (s.spec.ports as { port: number }[]).map((p) => p.port)]));
    services.set(`${NAMES.postgres}-rw`, [5432]); // created by CloudNativePG for the Cluster
    services.set(defaultValues.smtp.host, [defaultValues.smtp.port]); // the site's mail relay, named in values
    // A service URL of a domain with no service in the repository (users, orders, analytics) reaches nothing wherever it points.
    const absent = (key: string) => /^[A-Z]+_SERVICE_URL$/.test(key) && !services.has(`banyan-${key.split('_')[0].toLowerCase()}-service`);
    const env = envOf(container);
    const effective = { ...env, ...(SCHEMAS[entry].parse(env) as Record<string, unknown>) };
    const targets = Object.entries(effective).flatMap(([key, value]) => {
      if (typeof value !== 'string' || absent(key) || SECRET_NAME.test(key)) return [];
      if (key === 'PGHOST') return [[key, value, Number(effective.PGPORT)]];
      if (key === 'SMTP_HOST') return [[key, value, Number(effective.SMTP_PORT)]];
      if (/^https?:\/\//.test(value)) return [[key, new URL(value).hostname, Number(new URL(value).port || 80)]];
      return [];
    }) as [string, string, number][];
    expect(targets.length).toBeGreaterThan(0);
    for (const [key, host, port] of targets) expect([key, host, services.get(host)?.includes(port) ?? 'no such Service']).toEqual([key, host, true]);
  });

  test('When something outside the cluster looks for the admin port, then only a ClusterIP Service has it, no Ingress routes to it, and a NetworkPolicy admits only its labelled clients', () => {
    const gateway = named('Deployment', 'banyan-gateway')!;
    const admin = podContainers(gateway)[0].ports!.find((p) => p.containerPort === gatewayConfigSchema.parse(envOf(podContainers(gateway)[0])).GATEWAY_ADMIN_PORT)!;
    const selectsGateway = (s: Obj) => Object.entries(s.spec.selector ?? {}).every(([k, v]) => gateway.spec.template.metadata.labels[k] === v);
    const exposing = ofKind('Service').filter((s) => selectsGateway(s) && (s.spec.ports as { targetPort: unknown }[]).some((p) => p.targetPort === admin.name || p.targetPort === admin.containerPort));
    expect(exposing.map((s) => [s.metadata.name, s.spec.type ?? 'ClusterIP'])).toEqual([[NAMES.gatewayAdmin, 'ClusterIP']]);
    expect(ofKind('Service').filter((s) => ['LoadBalancer', 'NodePort'].includes(s.spec.type)).map((s) => s.spec.ports.map((p: { targetPort: unknown }) => p.targetPort))).toEqual([['public']]);
    expect(ofKind('Service').filter((s) => s.spec.externalIPs?.length)).toEqual([]);
    const ingressBackends = ofKind('Ingress').flatMap((i) => JSON.stringify(i.spec).match(new RegExp(`"name":"${NAMES.gatewayAdmin}"`, 'g')) ?? []);
    expect(ingressBackends).toEqual([]);

    const policy = ofKind('NetworkPolicy').find((p) => Object.entries(p.spec.podSelector.matchLabels).every(([k, v]) => gateway.spec.template.metadata.labels[k] === v))!;
    const adminRules = (policy.spec.ingress as { ports: { port: unknown }[]; from?: { podSelector: { matchLabels: Record<string, string> } }[] }[]).filter((r) => r.ports.some((p) => p.port === admin.name));
    expect(adminRules.length).toBe(1);
    const clients = adminRules[0].from!.map((f) => f.podSelector.matchLabels);
    // The monolith and notifications read the routing table: they carry the label; nothing else does.
    const labelled = ofKind('Deployment').filter((d) => clients.some((m) => Object.entries(m).every(([k, v]) => d.spec.template.metadata.labels[k] === v)));
    const readers = longRunning().filter(({ container }) => (container.env ?? []).some((e) => e.name === 'GATEWAY_ADMIN_URL')).map(({ object }) => object.metadata.name);
    expect(labelled.map((d) => d.metadata.name).sort()).toEqual(readers.sort());
  });

  test('the gateway runs at least two replicas, with a HorizontalPodAutoscaler and a PodDisruptionBudget that leave one up', () => {
    const gateway = named('Deployment', 'banyan-gateway')!;
    expect(gateway.spec.replicas).toBeGreaterThanOrEqual(2);
    const hpa = ofKind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === 'banyan-gateway')!;
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    const pdb = ofKind('PodDisruptionBudget').find((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => gateway.spec.template.metadata.labels[k] === v))!;
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
    expect(gateway.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  test('the relay runs at least two replicas sharing the outbox partitions by lease, and no more than there are partitions', () => {
    const relays = longRunning().filter(({ entry }) => entry === 'packages/relay/dist/main.js');
    expect(relays.length).toBe(1);
    expect(relays[0].object.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(relays[0].object.spec.replicas).toBeLessThanOrEqual(OUTBOX_PARTITIONS);
    expect(ofKind('PodDisruptionBudget').some((p) => p.metadata.name === relays[0].object.metadata.name && p.spec.minAvailable >= 1)).toBe(true);
  });

  test('When a release is applied, then the migrations run once in a Job named for that release; the next release gets a Job of its own', () => {
    const jobs = ofKind('Job');
    expect(jobs.length).toBe(1);
    const [job] = jobs;
    expect(job.metadata.name).toContain(defaultValues.release.replace(/\./g, '-'));
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(entryOf(podContainers(job)[0])).toBe('monolith/dist/seed-main.js');
    expect(readFileSync(path.join(root, 'monolith/src/seed-main.ts'), 'utf8')).toMatch(/monolith\.start\(\)/); // which migrates (app.ts)
    const next = all(render({ ...defaultValues, release: '0.2.0' }));
    expect(next.filter((o) => o.kind === 'Job').map((o) => o.metadata.name)).not.toContain(job.metadata.name);
    // Everything else keeps its name across releases: a rollout, not a second copy.
    const names = (list: Obj[]) => list.filter((o) => o.kind !== 'Job').map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names(next)).toEqual(names(all()));
  });

  test.each([
    ['direct to the read-write service', defaultValues],
    ['through a Pooler', withPooler],
  ])('PostgreSQL (CloudNativePG Cluster) is reached %s, never through PgBouncer in transaction mode', (_label, values) => {
    const list = render(values, toYaml);
    const cluster = named('Cluster', NAMES.postgres, list)!;
    expect(cluster.spec.instances).toBeGreaterThanOrEqual(2);
    const poolers = ofKind('Pooler', list);
    for (const p of poolers) expect([p.metadata.name, p.spec.pgbouncer.poolMode, p.spec.type, p.spec.cluster.name]).toEqual([p.metadata.name, 'session', 'rw', NAMES.postgres]);
    const allowed = new Set([`${NAMES.postgres}-rw`, ...poolers.map((p) => p.metadata.name)]);
    const hosts = banyanContainers(list).map(({ object, container }) => [object.metadata.name, envOf(container).PGHOST]);
    expect(hosts.filter(([, host]) => !allowed.has(host))).toEqual([]);
    expect(hosts.every(([, host]) => host === (values.postgres.pooler === 'session' ? NAMES.pooler : `${NAMES.postgres}-rw`))).toBe(true);
  });

  test('PostgreSQL allows the connections every process may open together, the gateway at its autoscaler maximum', () => {
    const hpa = named('HorizontalPodAutoscaler', 'banyan-gateway')!;
    const kindOf = (entry: string): keyof typeof CONNECTIONS_PER_INSTANCE =>
      entry.startsWith('gateway/') ? 'gateway' : entry.startsWith('packages/relay/') ? 'relay' : entry.startsWith('monolith/') ? 'monolith' : 'service';
    const needed = banyanContainers().reduce((sum, { object, entry }) => {
      const replicas = object.kind === 'Job' ? 1 : object.metadata.name === 'banyan-gateway' ? hpa.spec.maxReplicas : object.spec.replicas;
      return sum + replicas * CONNECTIONS_PER_INSTANCE[kindOf(entry)];
    }, 0);
    expect(Number(named('Cluster', NAMES.postgres)!.spec.postgresql.parameters.max_connections)).toBeGreaterThanOrEqual(needed + 10);
  });

  test('RabbitMQ is a RabbitmqCluster of an odd number of nodes whose queues are quorum queues, as Banyan declares them', () => {
    const [rabbit] = ofKind('RabbitmqCluster');
    expect(rabbit.metadata.name).toBe(NAMES.rabbitmq);
    expect(rabbit.spec.rabbitmq.additionalConfig).toMatch(/^default_queue_type = quorum$/m);
    expect(readFileSync(path.join(root, 'packages/messaging/src/topology.ts'), 'utf8')).toMatch(/'x-queue-type': 'quorum'/);
  });

  test('every process exports traces to the OpenTelemetry Collector, whose config receives OTLP/HTTP there and declares every component its pipeline uses', () => {
    const configMap = named('ConfigMap', NAMES.collector)!;
    const config = parse(configMap.data!['config.yaml']) as Record<string, any>;
    for (const [name, pipeline] of Object.entries(config.service.pipelines as Record<string, Record<string, string[]>>)) {
      for (const section of ['receivers', 'processors', 'exporters']) {
        for (const component of pipeline[section] ?? []) expect([name, section, component, component in (config[section] ?? {})]).toEqual([name, section, component, true]);
      }
    }
    for (const extension of config.service.extensions) expect(extension in config.extensions).toBe(true);
    const httpPort = Number(String(config.receivers.otlp.protocols.http.endpoint).split(':').at(-1));
    const service = named('Service', NAMES.collector)!;
    expect(service.spec.ports.map((p: { port: number }) => p.port)).toContain(httpPort);
    for (const { object, container } of longRunning()) {
      const env = envOf(container);
      expect([object.metadata.name, env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_SERVICE_NAME]).toEqual([object.metadata.name, `http://${NAMES.collector}:${httpPort}`, object.metadata.name]);
    }
    // The collector's probes hit its health_check extension's port.
    const collector = podContainers(named('Deployment', NAMES.collector)!)[0];
    const healthPort = Number(String(config.extensions.health_check.endpoint).split(':').at(-1));
    expect(collector.ports!.find((p) => p.name === collector.readinessProbe.httpGet.port)?.containerPort).toBe(healthPort);
    expect(podContainers(named('Deployment', NAMES.collector)!)[0].command ?? []).toEqual([]);
  });

  test('the migration declaration (issue 11) has its place: a ConfigMap saying what will go there', () => {
    const declaration = named('ConfigMap', NAMES.migrationDeclaration)!;
    expect(Object.values(declaration.data ?? {}).join('\n')).toMatch(/issue 11/);
  });
});
