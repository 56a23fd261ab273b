/**
 * Banyan on Kubernetes: every object, rendered from one typed description (ADR 0601).
 *
 * Helm is not installable here (no Debian package, no npm package) and kubectl is not part of the
 * machine CI runs on, so the manifests are plain data built by this file: `render(values)` returns
 * the objects, deploy/render.mjs prints them as YAML (deploy/rendered/banyan.yaml is that output,
 * committed), deploy/validate.mjs checks them against the Kubernetes and CloudNativePG schemas,
 * and docs/test/deploy.test.ts checks the invariants against each process's zod config schema.
 *
 * The file is erasable TypeScript (types only, no enums): Node 24 runs it as it is, and the tests
 * import it through ts-jest, so it has no imports but types.
 */
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { ICluster } from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster';
import type { IPooler } from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Pooler';

/** The RabbitMQ Cluster Operator publishes no npm model: the fields Banyan sets, typed here. */
export interface RabbitmqCluster {
  apiVersion: 'rabbitmq.com/v1beta1';
  kind: 'RabbitmqCluster';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    replicas: number;
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    persistence: { storage: string };
    rabbitmq: { additionalConfig: string };
  };
}

export type KubeObject =
  | IConfigMap
  | IService
  | IDeployment
  | IJob
  | IHorizontalPodAutoscaler
  | IPodDisruptionBudget
  | INetworkPolicy
  | ICluster
  | IPooler
  | RabbitmqCluster;

export interface Values {
  /** The image tag; it also names the migration Job, so each release migrates once. */
  release: string;
  image: string;
  monolith: { replicas: number };
  gateway: { replicas: number; maxReplicas: number; targetCpuPercent: number };
  /** Relays share the outbox's 64 partitions by lease (ADR 0102): 2 for availability, ≤ 64 useful. */
  relay: { replicas: number };
  services: { replicas: number };
  postgres: {
    instances: number;
    storage: string;
    /**
     * `none`: every process connects to the CloudNativePG read-write service. `session`: through
     * a PgBouncer Pooler in session mode. Never transaction mode: the gateway's and the relays'
     * LISTEN connections and session state would land on another server connection.
     */
    pooler: 'none' | 'session';
  };
  rabbitmq: { replicas: number; storage: string };
  /** Where the collector forwards traces (OTLP/HTTP): the site's tracing backend. */
  tracing: { backend: string; collectorImage: string };
  /** The site's mail relay: not rendered here, the one dependency named from outside. */
  smtp: { host: string; port: number };
  /**
   * Whose X-Forwarded-For the monolith believes (monolith/src/config.ts TRUST_PROXY). Pod
   * addresses are private: `uniquelocal` covers 10/8, 172.16/12 and 192.168/16. Narrow it to the
   * cluster's pod CIDR where that is known.
   */
  trustProxy: string;
}

export const defaultValues: Values = {
  release: '0.1.0',
  image: 'banyan',
  monolith: { replicas: 2 },
  gateway: { replicas: 2, maxReplicas: 6, targetCpuPercent: 70 },
  relay: { replicas: 2 },
  services: { replicas: 2 },
  postgres: { instances: 3, storage: '20Gi', pooler: 'none' },
  rabbitmq: { replicas: 3, storage: '10Gi' },
  tracing: { backend: 'http://jaeger-collector.observability:4318', collectorImage: 'otel/opentelemetry-collector-contrib:0.120.0' },
  smtp: { host: 'smtp-relay', port: 25 },
  trustProxy: 'uniquelocal',
};

/**
 * Secrets the cluster's operator creates before the first apply (deploy/README.md says how).
 * None is rendered: a value here would be a default secret.
 */
export const SECRETS = {
  /** kubernetes.io/basic-auth, username `banyan`: CloudNativePG sets the role's password from it. */
  postgres: { name: 'banyan-postgres', keys: ['username', 'password'] },
  /** `url`: amqp://user:password@banyan-rabbitmq:5672, from the RabbitmqCluster's default user. */
  rabbitmq: { name: 'banyan-rabbitmq-url', keys: ['url'] },
  app: { name: 'banyan-app', keys: ['BANYAN_ADMIN_TOKEN', 'BANYAN_ADMIN_PASSWORD', 'PAYMENTS_SERVICE_TOKEN', 'PRODUCTS_SERVICE_TOKEN'] },
} as const;

export const NAMES = {
  postgres: 'banyan-postgres',
  pooler: 'banyan-postgres-pooler-rw',
  rabbitmq: 'banyan-rabbitmq',
  collector: 'banyan-otel-collector',
  gatewayAdmin: 'banyan-gateway-admin',
  migrationDeclaration: 'banyan-migration',
};

/**
 * The most PostgreSQL connections one instance of each process opens, read from the code:
 * - gateway: its pool (max 5, gateway/src/main.ts), the LISTEN client (store.ts), the switch
 *   fence's read of each outbox (1 × 4 databases, fence-outbox.ts) and the dashboard's outbox
 *   pools (2 × 4, dashboard/outbox.ts): 18.
 * - relay: batches (max 4, relay.ts), LISTEN, the probes' pool (1) and the schema wait (1): 7.
 * - monolith: knex's default pool (10) and ensureDatabase's one admin client at start: 11.
 * - service: the pool (10), its in-process relay (4 + LISTEN) and ensureDatabase's client: 16.
 * docs/scale.md adds them up; the Cluster's max_connections is sized from the same table.
 */
export const CONNECTIONS_PER_INSTANCE = { gateway: 18, relay: 7, monolith: 11, service: 16 } as const;
/** CloudNativePG's own connections (replication, the instance manager) and superuser_reserved_connections. */
const POSTGRES_OVERHEAD = 20;

type Kind = keyof typeof CONNECTIONS_PER_INSTANCE;

/** One Banyan process as a Deployment: what docker-compose.yml runs, with Kubernetes' names. */
export interface Process {
  name: string;
  kind: Kind;
  /** The workspace entry the image's node runs (the same as docker-compose.yml's command). */
  entry: string;
  /** Node/V8 flags before the preload (the same as docker-compose.yml's command). */
  nodeFlags?: string[];
  ports: Record<string, number>;
  /** The named port serving /healthz and /readyz. */
  probePort: string;
  replicas: number;
  env: IEnvVar[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** Pods that may call the gateway's admin API (routing table). */
  adminClient?: boolean;
}

const labels = (component: string) => ({ 'app.kubernetes.io/name': 'banyan', 'app.kubernetes.io/component': component, 'app.kubernetes.io/part-of': 'banyan' });
const selector = (component: string) => ({ 'app.kubernetes.io/name': 'banyan', 'app.kubernetes.io/component': component });
const value = (name: string, v: string | number): IEnvVar => ({ name, value: String(v) });
const secret = (name: string, ref: { name: string }, key: string): IEnvVar => ({ name, valueFrom: { secretKeyRef: { name: ref.name, key } } });

function postgresEnv(values: Values): IEnvVar[] {
  // The read-write service always: LISTEN and the migration lock need the primary, in one session.
  const host = values.postgres.pooler === 'session' ? NAMES.pooler : `${NAMES.postgres}-rw`;
  return [value('PGHOST', host), value('PGPORT', 5432), value('PGUSER', 'banyan'), secret('PGPASSWORD', SECRETS.postgres, 'password')];
}
const rabbitEnv = (): IEnvVar[] => [secret('RABBITMQ_URL', SECRETS.rabbitmq, 'url')];
const smtpEnv = (values: Values): IEnvVar[] => [value('SMTP_HOST', values.smtp.host), value('SMTP_PORT', values.smtp.port)];
const otelEnv = (name: string): IEnvVar[] => [value('OTEL_SERVICE_NAME', `banyan-${name}`), value('OTEL_EXPORTER_OTLP_ENDPOINT', `http://${NAMES.collector}:4318`)];
const adminToken = () => secret('BANYAN_ADMIN_TOKEN', SECRETS.app, 'BANYAN_ADMIN_TOKEN');
const paymentsToken = () => secret('PAYMENTS_SERVICE_TOKEN', SECRETS.app, 'PAYMENTS_SERVICE_TOKEN');
const productsToken = () => secret('PRODUCTS_SERVICE_TOKEN', SECRETS.app, 'PRODUCTS_SERVICE_TOKEN');
const url = (service: string, port: number) => `http://banyan-${service}:${port}`;

// One Node event loop uses about one core at most (docs/benchmarks.md): a limit of 1 CPU costs
// little and keeps a runaway pod from starving its node. Memory from the benchmarks' peak RSS
// (gateway 133 MB) with room; the monolith hashes passwords with a 16 MiB scrypt per login.
const small = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } };
const medium = { requests: { cpu: '250m', memory: '192Mi' }, limits: { cpu: '1', memory: '384Mi' } };

export function processes(values: Values): Process[] {
  const pg = postgresEnv(values);
  const service = (name: string, port: number, extra: IEnvVar[] = [], adminClient = false): Process => ({
    name,
    kind: 'service',
    entry: `extracted/${name}/dist/main.js`,
    ports: { http: port },
    probePort: 'http',
    replicas: values.services.replicas,
    env: [value('HOST', '0.0.0.0'), value('PORT', port), ...pg, ...rabbitEnv(), ...otelEnv(name), value('USERS_JWKS_URL', 'http://banyan-gateway/api/users/.well-known/jwks.json'), ...extra],
    resources: medium,
    adminClient,
  });
  return [
    {
      name: 'monolith',
      kind: 'monolith',
      entry: 'monolith/dist/main.js',
      ports: { http: 3000 },
      probePort: 'http',
      replicas: values.monolith.replicas,
      env: [
        value('HOST', '0.0.0.0'),
        value('PORT', 3000),
        ...pg,
        ...rabbitEnv(),
        ...smtpEnv(values),
        ...otelEnv('monolith'),
        value('GATEWAY_ADMIN_URL', `http://${NAMES.gatewayAdmin}:8081`),
        adminToken(),
        value('PRODUCTS_SERVICE_URL', url('products-service', 3102)),
        value('PAYMENTS_SERVICE_URL', url('payments-service', 3104)),
        paymentsToken(),
        // What the orders service presents at the monolith's internal stock door (ADR 0314).
        productsToken(),
        value('TRUST_PROXY', values.trustProxy),
      ],
      resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      adminClient: true,
    },
    {
      name: 'gateway',
      kind: 'gateway',
      entry: 'gateway/dist/main.js',
      // An 8 MiB young generation: the proxy's resident memory as on Node 20 (ADR 0211).
      nodeFlags: ['--max-semi-space-size=8'],
      ports: { public: 8080, admin: 8081 },
      // The gateway answers /healthz and /readyz on its admin port only (the public port proxies).
      probePort: 'admin',
      replicas: values.gateway.replicas,
      env: [
        value('GATEWAY_HOST', '0.0.0.0'),
        value('GATEWAY_PORT', 8080),
        // Bound beyond loopback so the kubelet's probes and the in-cluster callers reach it; a
        // ClusterIP Service and a NetworkPolicy keep it inside the cluster.
        value('GATEWAY_ADMIN_HOST', '0.0.0.0'),
        value('GATEWAY_ADMIN_PORT', 8081),
        adminToken(),
        ...pg,
        ...otelEnv('gateway'),
        // The gateway traces its own hop (ADR 0208): no http instrumentation on the proxy path.
        value('OTEL_NODE_DISABLED_INSTRUMENTATIONS', 'http'),
        value('MONOLITH_URL', url('monolith', 3000)),
        value('USERS_SERVICE_URL', url('users-service', 3101)),
        value('PRODUCTS_SERVICE_URL', url('products-service', 3102)),
        value('ORDERS_SERVICE_URL', url('orders-service', 3103)),
        value('PAYMENTS_SERVICE_URL', url('payments-service', 3104)),
        value('NOTIFICATIONS_SERVICE_URL', url('notifications-service', 3105)),
        value('ANALYTICS_SERVICE_URL', url('analytics-service', 3106)),
      ],
      // Requests a whole core: that is what one instance uses at its measured peak, and what the
      // HPA's utilisation is a share of.
      resources: { requests: { cpu: '1', memory: '192Mi' }, limits: { cpu: '1', memory: '256Mi' } },
    },
    {
      name: 'relay',
      kind: 'relay',
      entry: 'packages/relay/dist/main.js',
      ports: { probes: 3199 },
      probePort: 'probes',
      replicas: values.relay.replicas,
      env: [value('RELAY_DATABASE', 'banyan_monolith'), value('RELAY_HOST', '0.0.0.0'), value('RELAY_PORT', 3199), ...pg, ...rabbitEnv(), ...otelEnv('relay')],
      resources: small,
    },
    // Its keys and throttle counts are the monolith's users schema (ADR 0333); TRUST_PROXY as the monolith's.
    service('users-service', 3101, [value('TRUST_PROXY', values.trustProxy)]),
    service('products-service', 3102, [productsToken()]),
    // Its checkout saga follows the routing table to reach products and payments (ADR 0314).
    service(
      'orders-service',
      3103,
      [
        value('GATEWAY_ADMIN_URL', `http://${NAMES.gatewayAdmin}:8081`),
        adminToken(),
        value('PRODUCTS_SERVICE_URL', url('products-service', 3102)),
        productsToken(),
        value('PAYMENTS_SERVICE_URL', url('payments-service', 3104)),
        paymentsToken(),
        // Its internal stock and payments doors, while products or payments is the monolith's.
        value('MONOLITH_URL', url('monolith', 3000)),
      ],
      true,
    ),
    service('payments-service', 3104, [paymentsToken()]),
    service('notifications-service', 3105, [...smtpEnv(values), value('GATEWAY_ADMIN_URL', `http://${NAMES.gatewayAdmin}:8081`), adminToken()], true),
    service('analytics-service', 3106),
  ];
}

function container(values: Values, p: Process): IContainer {
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: p.probePort },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });
  return {
    name: p.name,
    image: `${values.image}:${values.release}`,
    command: ['node', ...(p.nodeFlags ?? []), '-r', '@banyan/telemetry/register', p.entry],
    ports: Object.entries(p.ports).map(([name, containerPort]) => ({ name, containerPort })),
    env: p.env,
    resources: p.resources,
    // Migrations run at start (the Job has usually done them): up to 5 minutes before liveness counts.
    startupProbe: probe('/healthz', 5, 60),
    readinessProbe: probe('/readyz', 5, 2),
    livenessProbe: probe('/healthz', 10, 3),
    // Endpoints are removed asynchronously: keep serving a few seconds after SIGTERM is due, then
    // the process's own graceful shutdown (STYLE.md) finishes what is in flight.
    lifecycle: { preStop: { sleep: { seconds: 5 } } },
    securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  };
}

function deployment(values: Values, p: Process): IDeployment {
  const podLabels = { ...labels(p.name), ...(p.adminClient ? { 'banyan.dev/gateway-admin-client': 'true' } : {}) };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `banyan-${p.name}`, labels: labels(p.name) },
    spec: {
      replicas: p.replicas,
      selector: { matchLabels: selector(p.name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: podLabels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(p.ports[p.probePort]), 'prometheus.io/path': '/metrics' } },
        spec: {
          terminationGracePeriodSeconds: 40,
          // Replicas on different nodes where there are several: a node's loss is one replica's.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector(p.name) } }],
          containers: [container(values, p)],
        },
      },
    },
  };
}

function services(ps: Process[]): IService[] {
  const byName = Object.fromEntries(ps.map((p) => [p.name, p]));
  const clusterIp = (name: string, component: string, port: string): IService => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: labels(component) },
    spec: { type: 'ClusterIP', selector: selector(component), ports: [{ name: port, port: byName[component].ports[port], targetPort: port }] },
  });
  return [
    {
      // Public traffic only: port 80 → the gateway's 8080. Local keeps the client's address,
      // which the per-client connection cap and the login throttle count.
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'banyan-gateway', labels: labels('gateway') },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: selector('gateway'), ports: [{ name: 'public', port: 80, targetPort: 'public' }] },
    },
    // The admin API changes where traffic goes: cluster-internal, for the monolith, the
    // notifications service and an operator's `kubectl port-forward`.
    clusterIp(NAMES.gatewayAdmin, 'gateway', 'admin'),
    clusterIp('banyan-monolith', 'monolith', 'http'),
    ...ps.filter((p) => p.kind === 'service').map((p) => clusterIp(`banyan-${p.name}`, p.name, 'http')),
  ];
}

function gatewayScaling(values: Values): [IHorizontalPodAutoscaler, IPodDisruptionBudget, IPodDisruptionBudget, INetworkPolicy] {
  return [
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'banyan-gateway', labels: labels('gateway') },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'banyan-gateway' },
        minReplicas: values.gateway.replicas,
        maxReplicas: values.gateway.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: values.gateway.targetCpuPercent } } }],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'banyan-gateway', labels: labels('gateway') },
      spec: { minAvailable: 1, selector: { matchLabels: selector('gateway') } },
    },
    {
      // A drain never takes every relay at once: the survivors take the partitions over (ADR 0102).
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'banyan-relay', labels: labels('relay') },
      spec: { minAvailable: 1, selector: { matchLabels: selector('relay') } },
    },
    {
      // The admin port answers only the pods labelled as its clients; the public port anyone.
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'banyan-gateway-admin', labels: labels('gateway') },
      spec: {
        podSelector: { matchLabels: selector('gateway') },
        policyTypes: ['Ingress'],
        ingress: [
          { ports: [{ port: 'public', protocol: 'TCP' }] },
          { ports: [{ port: 'admin', protocol: 'TCP' }], from: [{ podSelector: { matchLabels: { 'banyan.dev/gateway-admin-client': 'true' } } }] },
        ],
      },
    },
  ];
}

/**
 * Database migrations and the seed, once per release: the Job's name carries the release, so
 * applying the same release again finds it done, and a new release runs it anew. It runs what
 * compose's `seed` runs (monolith/dist/seed-main.js: create and migrate banyan_monolith, seed it
 * when empty). The gateway and each service still migrate their own small schemas at start,
 * serialised by knex's migration lock (taken inside the migration transaction), so replicas
 * starting together wait for each other instead of failing.
 */
function migrationJob(values: Values, monolith: Process): IJob {
  const env = monolith.env.filter((e) => !['HOST', 'PORT'].includes(e.name));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `banyan-migrate-${values.release.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}`, labels: labels('migrate') },
    spec: {
      backoffLimit: 4,
      activeDeadlineSeconds: 900,
      template: {
        metadata: { labels: labels('migrate') },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'migrate',
              image: `${values.image}:${values.release}`,
              command: ['node', 'monolith/dist/seed-main.js'],
              env: [...env, secret('BANYAN_ADMIN_PASSWORD', SECRETS.app, 'BANYAN_ADMIN_PASSWORD')],
              resources: monolith.resources,
              securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

/** The most connections the rendered processes can open together (the gateway at its HPA maximum). */
export function connectionBudget(values: Values): number {
  const c = CONNECTIONS_PER_INSTANCE;
  return (
    values.gateway.maxReplicas * c.gateway +
    values.relay.replicas * c.relay +
    // + 1: the migration Job's monolith process, while it runs.
    (values.monolith.replicas + 1) * c.monolith +
    processes(values).filter((p) => p.kind === 'service').length * values.services.replicas * c.service
  );
}

function postgres(values: Values): Array<ICluster | IPooler> {
  const maxConnections = Math.ceil((connectionBudget(values) + POSTGRES_OVERHEAD) / 50) * 50;
  const cluster: ICluster = {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: NAMES.postgres, labels: labels('postgres') },
    spec: {
      instances: values.postgres.instances,
      storage: { size: values.postgres.storage },
      enableSuperuserAccess: false,
      // Database per service: the processes create theirs at start (CREATEDB), as on one machine.
      bootstrap: { initdb: { database: 'banyan_monolith', owner: 'banyan', secret: { name: SECRETS.postgres.name } } },
      managed: { roles: [{ name: 'banyan', ensure: 'present', login: true, createdb: true, passwordSecret: { name: SECRETS.postgres.name } }] },
      postgresql: { parameters: { max_connections: String(maxConnections) } },
      resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
    },
  };
  if (values.postgres.pooler === 'none') return [cluster];
  return [
    cluster,
    {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Pooler',
      metadata: { name: NAMES.pooler, labels: labels('postgres') },
      spec: {
        cluster: { name: NAMES.postgres },
        type: 'rw',
        instances: 2,
        // Session mode: a client keeps its server connection, so LISTEN, session settings and the
        // migration lock behave as on a direct connection. It caps and queues connections; it
        // does not multiplex them (transaction mode would, and would break LISTEN).
        pgbouncer: { poolMode: 'session', parameters: { max_client_conn: String(connectionBudget(values) + POSTGRES_OVERHEAD), default_pool_size: String(maxConnections - POSTGRES_OVERHEAD) } },
      },
    },
  ];
}

function rabbitmq(values: Values): RabbitmqCluster {
  return {
    apiVersion: 'rabbitmq.com/v1beta1',
    kind: 'RabbitmqCluster',
    metadata: { name: NAMES.rabbitmq, labels: labels('rabbitmq') },
    spec: {
      // Quorum queues replicate to a majority: an odd number of nodes, three survives one loss.
      replicas: values.rabbitmq.replicas,
      resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
      persistence: { storage: values.rabbitmq.storage },
      // Banyan declares every queue as quorum itself (packages/messaging topology.ts); this makes
      // anything declared without a type quorum too.
      rabbitmq: { additionalConfig: 'default_queue_type = quorum\n' },
    },
  };
}

/** What the collector runs: OTLP in from every process, batched, out to the site's backend. */
export function collectorConfig(values: Values) {
  return {
    extensions: { health_check: { endpoint: '0.0.0.0:13133' } },
    receivers: { otlp: { protocols: { http: { endpoint: '0.0.0.0:4318' }, grpc: { endpoint: '0.0.0.0:4317' } } } },
    processors: {
      memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 25 },
      batch: { send_batch_size: 1024, timeout: '1s' },
    },
    exporters: { otlphttp: { endpoint: values.tracing.backend } },
    service: {
      extensions: ['health_check'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlphttp'] } },
    },
  };
}

function collector(values: Values, configText: string): [IConfigMap, IDeployment, IService] {
  const probe = { httpGet: { path: '/', port: 'health' }, periodSeconds: 10 };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: NAMES.collector, labels: labels('otel-collector') }, data: { 'config.yaml': configText } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAMES.collector, labels: labels('otel-collector') },
      spec: {
        replicas: 2,
        selector: { matchLabels: selector('otel-collector') },
        template: {
          metadata: { labels: labels('otel-collector') },
          spec: {
            containers: [
              {
                name: 'otel-collector',
                image: values.tracing.collectorImage,
                args: ['--config=/etc/otelcol/config.yaml'],
                ports: [
                  { name: 'otlp-http', containerPort: 4318 },
                  { name: 'otlp-grpc', containerPort: 4317 },
                  { name: 'health', containerPort: 13133 },
                ],
                volumeMounts: [{ name: 'config', mountPath: '/etc/otelcol' }],
                resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
                readinessProbe: probe,
                livenessProbe: probe,
                securityContext: { runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              },
            ],
            volumes: [{ name: 'config', configMap: { name: NAMES.collector } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: NAMES.collector, labels: labels('otel-collector') },
      spec: {
        type: 'ClusterIP',
        selector: selector('otel-collector'),
        ports: [
          { name: 'otlp-http', port: 4318, targetPort: 'otlp-http' },
          { name: 'otlp-grpc', port: 4317, targetPort: 'otlp-grpc' },
        ],
      },
    },
  ];
}

/**
 * The place of the migration's declaration (issue 11: the domains, prefixes, targets and data
 * specs every tool reads). It does not exist yet: the processes run as they are, and this
 * ConfigMap is where the declaration's file will be mounted from once it does.
 */
function migrationDeclaration(): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: NAMES.migrationDeclaration, labels: labels('migration'), annotations: { 'banyan.dev/status': 'placeholder until the migration declaration exists (issue 11)' } },
    data: {
      'README.txt':
        'The migration declaration (issue 11) goes here: the file at the root of the migrated project that names\n' +
        'the domains, their prefixes, targets and data specs. No process reads it yet; when one does, mount this\n' +
        'ConfigMap into it and the CLI Job.\n',
    },
  };
}

/** Every object, in apply order. `stringify` turns the collector's config into its file's text. */
export function render(values: Values = defaultValues, stringify: (data: unknown) => string = (data) => JSON.stringify(data, null, 2)): KubeObject[] {
  const ps = processes(values);
  return [
    ...postgres(values),
    rabbitmq(values),
    ...collector(values, stringify(collectorConfig(values))),
    migrationDeclaration(),
    migrationJob(values, ps.find((p) => p.name === 'monolith')!),
    ...ps.map((p) => deployment(values, p)),
    ...services(ps),
    ...gatewayScaling(values),
  ];
}
