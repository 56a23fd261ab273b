import { readFileSync } from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { Client } from 'pg';
import { eventually, truthy, processAlive, freePort } from '@banyan/testing';
import { startSystem, type System } from '../../../docs/test/support/walkthrough';

/**
 * Fault test of `npm start`'s supervisor, on the compiled CLI (`npm run build` first) with the
 * walkthrough's isolated system (its own ports, databases and RabbitMQ namespace).
 *
 * Injected: SIGKILL to the relay, three times, while orders are being placed through the gateway
 * (so some rows may be published and not yet marked when it dies).
 * Held: the supervisor restarts the relay each time (the system never goes down) and every
 * order produces exactly one email at the mail catcher: the relay re-publishes what it had not
 * marked, and the notifications consumer's inbox absorbs the duplicates.
 */
const KILLS = 3;
const ORDERS_PER_ROUND = 3;


let system: System | undefined;
let relayPort: number;
beforeAll(async () => {
  // The relay's probe port is not among the walkthrough's own: give it one, so this system can
  // run beside another (a developer's npm start, the walkthrough test).
  relayPort = await freePort();
  system = await startSystem({ RELAY_PORT: String(relayPort) });
}, 240_000);
afterAll(() => system?.stop(), 60_000);

/** One request exactly as written (fetch would tidy `//`), returning the status. */
function raw(url: string, request: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.end(request));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
  });
}

describe('npm start keeps supervising', () => {
  test('When the catchers get `GET //`, a foreign Host and garbage, then they answer 4xx and npm start keeps running; its banner names the Node that runs it', async () => {
    const { TRACES, MAIL, GATEWAY } = system!.env as Record<string, string>;

    const answers = [
      await raw(TRACES, 'GET // HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
      await raw(TRACES, 'GET /% HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
      await raw(TRACES, 'POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"a":'),
      await raw(TRACES, 'GET / HTTP/1.1\r\nHost: rebound.evil.example\r\nConnection: close\r\n\r\n'),
      await raw(MAIL, 'GET // HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
      await raw(MAIL, 'GET / HTTP/1.1\r\nHost: rebound.evil.example\r\nConnection: close\r\n\r\n'),
    ];

    expect(answers).toEqual([404, 404, 400, 421, 404, 421]);
    expect((await fetch(`${TRACES}/`)).status).toBe(200);
    expect((await fetch(`${MAIL}/`)).status).toBe(200);
    expect((await fetch(`${GATEWAY}/api/products?limit=1`)).status).toBe(200);
    const log = readFileSync(system!.log, 'utf8');
    expect(log).not.toContain('the supervisor failed');
    expect(log).toContain(`  node               ${process.version} (${process.execPath})`);
  });

  test('When the relay is SIGKILLed three times while orders are placed through the gateway, then it comes back each time and every order produces exactly one email', async () => {
    const sys = system!;
    const { GATEWAY, MAIL, MONOLITH } = sys.env as Record<string, string>;
    const log = () => readFileSync(sys.log, 'utf8');
    const relayPids = () => [...log().matchAll(/^\[banyan\] relay started \(pid (\d+)\)$/gm)].map((m) => Number(m[1]));
    const call = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
      const res = await fetch(`${GATEWAY}${path}`, {
        method: init.method ?? (init.body ? 'POST' : 'GET'),
        headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
        body: init.body ? JSON.stringify(init.body) : undefined,
        signal: AbortSignal.timeout(20_000),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    // Arrange: a customer and the product with the most stock.
    const email = `relay-kills-${randomBytes(4).toString('hex')}@example.com`;
    expect((await call('/api/users', { body: { email, password: 'a-long-password', name: 'Kill Nine' } })).status).toBe(201);
    const { token } = (await call('/api/users/login', { body: { email, password: 'a-long-password' } })).body as { token: string };
    const products = (await call('/api/products?limit=50')).body.items as Array<{ id: string; stock: number }>;
    const product = products.sort((a, b) => b.stock - a.stock)[0];
    expect(product.stock).toBeGreaterThan(KILLS * ORDERS_PER_ROUND + 1);
    const orders: string[] = [];
    const placeOrder = async () => {
      const placed = await call('/api/orders', { token, body: { items: [{ productId: product.id, quantity: 1 }], card: { number: '4242424242424242' } } });
      expect(placed.status).toBe(201);
      orders.push(placed.body.id as string);
    };
    const relayReady = () => eventually(async () => (await fetch(`http://127.0.0.1:${relayPort}/readyz`, { signal: AbortSignal.timeout(1000) })).ok, { what: 'the relay answers /readyz', until: truthy, timeoutMs: 60_000, intervalMs: 250 });
    await relayReady();

    // Act: each round places orders in parallel and kills the relay after the first is in.
    for (let round = 1; round <= KILLS; round++) {
      const pid = relayPids().at(-1)!;
      const first = placeOrder();
      const rest = Array.from({ length: ORDERS_PER_ROUND - 1 }, () => first.then(() => undefined).then(placeOrder));
      await first;
      process.kill(pid, 'SIGKILL');
      await Promise.all(rest);

      // It comes back: a new pid, logged with how the old one ended, and ready again.
      const restarted = await eventually(async () => relayPids().length === round + 1 && relayPids().at(-1), { what: `relay restarted after kill ${round}`, until: truthy, timeoutMs: 30_000, intervalMs: 250 });
      expect(restarted).not.toBe(pid);
      expect(log()).toMatch(new RegExp(`^\\[banyan\\] relay \\(pid ${pid}\\) was killed by SIGKILL; restarting it in [\\d.]+ s \\(restart ${round} of 5 allowed within 60 s\\)$`, 'm'));
      await relayReady();
    }
    await placeOrder(); // and one after the last restart
    expect(orders).toHaveLength(KILLS * ORDERS_PER_ROUND + 1);

    // Assert: wait until nothing more can send an email (every outbox row published, the queue
    // empty, every order's notification sent), then count the caught emails per order.
    const db = new Client({ host: '127.0.0.1', port: Number(sys.env.PGPORT ?? 5432), user: sys.env.PGUSER ?? 'postgres', password: sys.env.PGPASSWORD, database: `${sys.env.BANYAN_DATABASE_PREFIX}banyan_monolith` });
    await db.connect();
    const broker = await amqp.connect(sys.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    try {
      const channel = await broker.createChannel();
      await eventually(
        async () => {
          const unpublished = Number((await db.query('SELECT count(*) AS n FROM outbox.unpublished')).rows[0].n);
          const notified = (await db.query<{ order_id: string; status: string }>('SELECT order_id, status FROM notifications.notifications WHERE order_id = ANY($1)', [orders])).rows;
          const { messageCount } = await channel.checkQueue(`${sys.env.BANYAN_MQ_NAMESPACE}notification.order.created`);
          return unpublished === 0 && messageCount === 0 && notified.length === orders.length && notified.every((n) => n.status === 'sent');
        },
        { what: 'every order notified, the outbox drained and the queue empty', until: truthy, timeoutMs: 90_000, intervalMs: 250 },
      );
    } finally {
      await broker.close();
      await db.end();
    }
    const { items } = (await (await fetch(MAIL)).json()) as { items: Array<{ to: string[]; subject: string; text: string }> };
    const emailsPerOrder = orders.map((id) => items.filter((m) => m.text.includes(id)).length);
    expect(emailsPerOrder).toEqual(orders.map(() => 1));
    expect(items.filter((m) => m.to.includes(email) && m.subject.startsWith('Order confirmed'))).toHaveLength(orders.length);

    // What the inbox absorbed (re-published events the consumer had already applied), for the record.
    const metrics = await (await fetch(`${MONOLITH}/metrics`)).text();
    const duplicates = /^banyan_consumer_processed_total\{queue="[^"]*notification\.order\.created",outcome="duplicate"\} (\d+)/m.exec(metrics)?.[1] ?? '0';
    console.log(`${KILLS} relay kills, ${orders.length} orders, ${emailsPerOrder.reduce((a, b) => a + b, 0)} emails; duplicate order.created deliveries absorbed by the inbox: ${duplicates}`);
  }, 240_000);

  test('When npm start gets SIGTERM (as from Ctrl-C), then it stops every process it runs and ends itself', async () => {
    const log = () => readFileSync(system!.log, 'utf8');
    const started = [...log().matchAll(/^\[banyan\] (\S+) started \(pid (\d+)\)$/gm)].map((m) => ({ name: m[1], pid: Number(m[2]) }));
    const running = started.filter((s) => processAlive(s.pid));
    expect(running.length).toBeGreaterThanOrEqual(5);
    // The supervisor is the parent its children were told to watch.
    const supervisor = Number(/BANYAN_SUPERVISOR_PID=(\d+)/.exec(readFileSync(`/proc/${running[0].pid}/environ`, 'latin1').split('\0').join(' '))![1]);

    process.kill(supervisor, 'SIGTERM');

    await eventually(async () => !processAlive(supervisor), { what: 'the supervisor has ended', until: truthy, timeoutMs: 30_000, intervalMs: 250 });
    expect(running.filter((s) => processAlive(s.pid))).toEqual([]);
    expect(log()).toContain('[banyan] SIGTERM: stopping every process (again to kill them at once)');
    for (const { name, pid } of running) expect(log()).toMatch(new RegExp(`^\\[banyan\\] ${name} \\(pid ${pid}\\) (exited with code 0|was killed by SIGTERM)$`, 'm'));
  }, 60_000);
});

