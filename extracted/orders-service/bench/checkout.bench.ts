import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileSync } from 'node:fs';
import { startSwitchSystem, type SwitchSystem } from '../test/support/switch-system';

/**
 * `npm run bench:checkout`: checkouts per second and p50/p99 latency through the gateway, one run,
 * three placements: orders in the monolith with products and payments in-process; orders in the
 * monolith calling the products and payments services; orders in its service (the saga) calling
 * them. The same system throughout (one gateway, real PostgreSQL, the processes of the switching
 * drill), routes switched between rows. Prints a markdown table (and writes it to BENCH_OUT if set).
 */
const CHECKOUTS = Number(process.env.BENCH_CHECKOUTS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const WARMUP = 20;
const CARD = { number: '4242424242424242' };

let sys: SwitchSystem;
beforeAll(async () => {
  sys = await startSwitchSystem('orders_bench');
}, 120_000);
afterAll(() => sys?.close());

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Products and payments are switched past the gateway's preflight: this system runs no sync for
 * them (each row creates its own product on the side that serves it), so their sides differ on
 * purpose. Orders is switched as a user would.
 */
async function route(domain: 'orders' | 'products' | 'payments', mode: 'monolith' | 'extracted') {
  if (domain === 'orders') return sys.gateway.route(domain, mode);
  const res = await sys.gateway.adminApi.put(`/routes/${domain}`, { mode, force: true });
  if (res.status !== 200) throw new Error(`route ${domain} ${mode}: ${res.status} ${res.text}`);
}

async function run(productId: string, tokens: string[], count: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    tokens.map(async (token) => {
      while (next < count) {
        next++;
        const t0 = performance.now();
        const res = await sys.gateway.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: CARD }, token);
        if (res.status !== 201) throw new Error(`checkout answered ${res.status} ${res.text}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: count / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

test('checkout throughput and latency, orders in the monolith vs extracted', async () => {
  const admin = await sys.mono.admin();
  const tokens = (await Promise.all(Array.from({ length: CONCURRENCY }, () => sys.mono.signUp()))).map((c) => c.token);
  const rows: string[] = [];
  const placements = [
    { name: 'orders in the monolith, products and payments in-process', orders: 'monolith', others: 'monolith' },
    { name: 'orders in the monolith, products and payments services over HTTP', orders: 'monolith', others: 'extracted' },
    { name: 'orders service (saga), products and payments services over HTTP', orders: 'extracted', others: 'extracted' },
  ] as const;
  for (const p of placements) {
    await route('products', p.others);
    await route('payments', p.others);
    await route('orders', p.orders);
    // The fence and the monolith's routing poll settle within a few seconds.
    await sleep(4000);
    const product = await sys.gateway.api.post('/api/products', { sku: `bench-${randomUUID().slice(0, 8)}`, name: 'Thing', priceCents: 500, stock: 1_000_000 }, admin.token);
    expect(product.status).toBe(201);
    await run(product.body.id, tokens, WARMUP);
    const r = await run(product.body.id, tokens, CHECKOUTS);
    rows.push(`| ${p.name} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`);
  }
  const table = [
    `${CHECKOUTS} checkouts, ${CONCURRENCY} concurrent customers, through the gateway`,
    '',
    '| placement | checkouts/s | p50 ms | p99 ms |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${table}\n`);
}, 300_000);
