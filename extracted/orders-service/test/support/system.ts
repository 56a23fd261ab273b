import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER, type Role } from '@banyan/auth';
import { serve, type Served } from '@banyan/http';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, deleteNamespaceTopology, eventually, freePort, http, testNamespace, type TestDatabase } from '@banyan/testing';
import type { EventEnvelope } from '@banyan/events';
import { names } from '@banyan/messaging';
import { buildProductsService } from '@banyan/products-service';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../../../../gateway/test/support/gateway';
import { CALLER_TOKEN, observedProcessor, startPaymentsService, type PaymentsServiceHarness } from '../../../payments-service/test/support';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MAIN = path.resolve(__dirname, '../../dist/main.js');
/** The orders service's credential at the products service's stock API. */
export const PRODUCTS_CALLER_TOKEN = 'orders-service-products-test-credential';

/** A stand-in for the users domain: a signing key, and its JWKS served over HTTP for the child process. */
async function usersDomain() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256', use: 'sig' }] };
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    verifier: createTokenVerifier({ jwks }),
    sign: (userId: string, role: Role = 'customer') =>
      new SignJWT({ email: `${userId}@example.com`, role })
        .setProtectedHeader({ alg: 'ES256', kid: 'test' })
        .setSubject(userId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setExpirationTime('30m')
        .sign(privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface OrdersProcess {
  url: string;
  api: ReturnType<typeof http>;
  db: TestDatabase;
  /** Start (again) on the same port and database, with `more` variables from now on; resolves once /readyz answers. */
  start(more?: Record<string, string>): Promise<void>;
  /** SIGKILL: no shutdown handler runs, nothing is finished. */
  kill(): Promise<void>;
  /** Whether the child runs (started and neither exited nor killed). */
  alive(): boolean;
  /** The child's output, for a failing test's message. */
  log(): string;
}

export interface OrdersSystem {
  /** The RabbitMQ namespace of this file's exchanges and queues. */
  namespace: string;
  orders: OrdersProcess;
  products: { db: TestDatabase; served: Served; api: ReturnType<typeof http>; close(): Promise<void>; revive(): Promise<void> };
  payments: PaymentsServiceHarness;
  card: ReturnType<typeof observedProcessor>;
  gateway: GatewayHarness;
  token(userId: string, role?: Role): Promise<string>;
  adminToken: string;
  /** Every `order.*` event the orders service's relay published, as a subscriber received it. */
  events: EventEnvelope<any>[];
  /** A product with `stock` units at `priceCents`, created through the products service's API. */
  product(stock: number, priceCents?: number): Promise<string>;
  stockOf(productId: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Everything the extracted orders service's checkout runs against, as real processes and parts:
 * the orders service as a child process (`dist/main.js`, killable), the products and payments
 * services (in this process, served over HTTP), a real gateway whose routing table the orders
 * service follows (products and payments routed `extracted`), a users JWKS, PostgreSQL and
 * RabbitMQ (the orders relay publishes under this file's namespace, deleted on close).
 */
export async function startOrdersSystem(label: string, env: Record<string, string> = {}): Promise<OrdersSystem> {
  const namespace = testNamespace(label);
  const logger = createLogger('orders-system', process.env.TEST_LOG_LEVEL ?? 'silent');
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const users = await usersDomain();
    cleanups.push(() => users.close());

    const productsDb = await createTestDatabase(`${label}_products`);
    cleanups.push(() => productsDb.drop());
    const built = buildProductsService({ knex: productsDb.knex, logger, verifier: users.verifier }, { callerToken: PRODUCTS_CALLER_TOKEN });
    await built.start();
    let productsServed = await serve(built.app, 0);
    const productsPort = productsServed.port;
    let productsUp = true;
    cleanups.push(async () => productsUp && productsServed.close(0));

    const card = observedProcessor();
    const payments = await startPaymentsService(`${label}_payments`, { verifier: users.verifier, cardProcessor: card.processor });
    cleanups.push(() => payments.close());

    const gateway = await startGateway({ label: `${label}_gw`, services: { products: productsServed.url, payments: payments.served.url } });
    cleanups.push(() => gateway.close());
    await gateway.route('products', 'extracted');
    await gateway.route('payments', 'extracted');

    const orders = await ordersProcess(`${label}_orders`, {
      BANYAN_MQ_NAMESPACE: namespace,
      RABBITMQ_URL,
      USERS_JWKS_URL: users.jwksUrl,
      GATEWAY_ADMIN_URL: gateway.adminUrl,
      BANYAN_ADMIN_TOKEN: ADMIN_TOKEN,
      PRODUCTS_SERVICE_URL: productsServed.url,
      PRODUCTS_SERVICE_TOKEN: PRODUCTS_CALLER_TOKEN,
      PAYMENTS_SERVICE_URL: payments.served.url,
      PAYMENTS_SERVICE_TOKEN: CALLER_TOKEN,
      PRODUCTS_TIMEOUT_MS: '2000',
      PAYMENTS_TIMEOUT_MS: '2000',
      PRODUCTS_BREAKER_RESET_MS: '500',
      PAYMENTS_BREAKER_RESET_MS: '500',
      ORDERS_SAGA_SWEEP_MS: '300',
      ORDERS_SAGA_STALE_MS: '1500',
      ...env,
    });
    cleanups.push(async () => {
      await orders.kill();
      await orders.db.drop();
      await deleteNamespaceTopology(namespace, RABBITMQ_URL);
    });
    // A subscriber of the orders exchange, as notifications and analytics are: the relay
    // publishes with `mandatory`, so without a bound queue it would keep every event back.
    const events: EventEnvelope<any>[] = [];
    const connection = await amqp.connect(RABBITMQ_URL);
    cleanups.push(() => connection.close());
    const channel = await connection.createChannel();
    const exchange = names(namespace).exchange('orders');
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, 'order.*');
    await channel.consume(queue, (msg) => msg && events.push(JSON.parse(msg.content.toString())), { noAck: true });

    await orders.start();

    const adminToken = await users.sign('00000000-0000-7000-8000-000000000001', 'admin');
    const productsApi = () => http(productsServed.url);
    let sku = 0;
    return {
      namespace,
      orders,
      products: {
        db: productsDb,
        get served() {
          return productsServed;
        },
        get api() {
          return productsApi();
        },
        async close() {
          productsUp = false;
          await productsServed.close(0);
        },
        async revive() {
          productsServed = await serve(built.app, productsPort);
          productsUp = true;
        },
      },
      payments,
      card,
      gateway,
      token: (userId, role) => users.sign(userId, role),
      adminToken,
      events,
      async product(stock, priceCents = 1250) {
        const res = await productsApi().post('/api/products', { sku: `${label}-${++sku}-${Date.now()}`, name: 'Thing', priceCents, stock }, adminToken);
        if (res.status !== 201) throw new Error(`product not created: ${res.status} ${res.text}`);
        return res.body.id as string;
      },
      async stockOf(productId) {
        return (await productsDb.knex('products.products').where({ id: productId }).first('stock')).stock as number;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The orders service as a child process on a port and database of its own. */
export async function ordersProcess(label: string, env: Record<string, string>, database?: TestDatabase): Promise<OrdersProcess> {
  const db = database ?? (await createTestDatabase(label));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  return {
    url,
    api: http(url),
    db,
    async start(more = {}) {
      // Variables known only once other parts listen (the gateway's admin URL) stay for restarts.
      Object.assign(env, more);
      output = '';
      child = spawn(process.execPath, [MAIN], {
        env: {
          ...process.env,
          ...env,
          PORT: String(port),
          SERVICE_DATABASE: db.settings.database,
          LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const started = child;
      await eventually(
        async () => {
          if (started.exitCode !== null) throw new Error(`orders service exited ${started.exitCode}: ${output.slice(-2000)}`);
          const res = await fetch(`${url}/readyz`);
          if (res.status !== 200) throw new Error(`readyz ${res.status}`);
        },
        { timeoutMs: 30_000 },
      );
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
    alive: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    log: () => output,
  };
}
