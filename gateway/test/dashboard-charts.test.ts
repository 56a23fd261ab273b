import { startGateway, sleep, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/** The dashboard's charts: an hour of each domain's counters, sampled and drawn as SVG by the gateway. */
describe('Dashboard charts', () => {
  let monolith: Stub;
  let products: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    products = await startStub('products-service');
    gw = await startGateway({
      label: 'gw_charts',
      monolith: monolith.url,
      services: { products: products.url },
      // Products declares a sync: absent databases here, so no shared outbox decides its preflight.
      env: { GATEWAY_DASHBOARD_SAMPLE_MS: '100', MONOLITH_DATABASE: 'banyan_test_absent_monolith', PRODUCTS_DATABASE: 'banyan_test_absent_products' },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([monolith, products].map((s) => s?.close()));
  });

  test('When a domain is split and its service fails some reads, then its chart draws the split, both sides’ error rates and latencies', async () => {
    await gw.route('products', 'canary', 50);
    let n = 0;
    products.behave((req, res) => {
      res.statusCode = n++ % 4 === 0 ? 500 : 200;
      res.setHeader('content-type', 'application/json');
      res.end('{"served":"products-service"}');
    });
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${gw.url}/api/products/${i}`, { headers: { cookie: `banyan_sticky=c${round}-${i}` } }).then((r) => r.text())));
      await sleep(120);
    }

    const res = await gw.adminApi.get('/charts/products');
    const svg = res.text;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('image/svg+xml');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 640 \d+"/);
    // Sampled for a few seconds only: the chart spans the last minute rather than an hour squeezed to its right edge.
    expect(svg).toContain('aria-label="products: the last minute"');
    for (const title of ['traffic answered by the service', '5xx / failed attempts', 'latency p50 / p99', 'shadow match rate']) expect(svg).toContain(`>${title}</text>`);
    // The split (an area and its line), the two error-rate lines and four latency lines: drawn, not empty.
    expect((svg.match(/<path class="extracted area" d="M/g) ?? []).length).toBe(1);
    expect(svg.match(/<path class="(monolith|extracted)( thin)?" d="M[\d.]+,[\d.]+[LM]/g)).toHaveLength(7);
    // Nothing was shadowed: no match-rate line.
    expect(svg).not.toContain('class="shadow" d="M');
    expect(svg).toMatch(/now · \d+ samples/);
  });

  test('A chart needs the token and a declared domain', async () => {
    expect((await fetch(`${gw.adminUrl}/charts/products`)).status).toBe(401);
    expect((await gw.adminApi.get('/charts/bananas')).body.code).toBe('GATEWAY.UNKNOWN_DOMAIN');
  });
});
