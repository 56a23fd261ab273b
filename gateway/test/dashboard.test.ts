import { existsSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { backfill, loadSyncSpec } from '@banyan/sync';
import { dropDatabase } from '@banyan/db';
import { serve, type Served } from '@banyan/http';
import { buildProductsService } from '@banyan/products-service';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { startMonolith, type MonolithHarness } from '../../monolith/test/support/harness';
import { ADMIN_TOKEN, sleep, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/**
 * The dashboard in a real browser (Debian's chromium, never a downloaded one) against a real
 * gateway in front of the real monolith and the real products service, whose copy of one
 * product differs so shadow mode and verify both have something to find. Products' list is a route
 * rule of its own (ADR 0213), and analytics' service is a stub that answers /readyz, so a ramp of
 * analytics passes its preflight and keeps running until the page aborts it.
 */
const CHROMIUM = '/usr/bin/chromium';
const ABSENT = 'banyan_test_dash_absent';
const SCREENSHOT_IN_DOCS = path.join(__dirname, '..', '..', 'docs', 'dashboard.png');

if (!existsSync(CHROMIUM)) {
  // CI installs it (.ci/needs-chromium); a machine without it fails here and says why.
  describe('Dashboard in a browser', () => {
    // A failure, not a skip: the dashboard is only tested in a real browser, and a green run
    // without one would claim what was never checked.
    test('needs Debian\'s chromium', () => {
      throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does it when .ci/needs-chromium exists)`);
    });
  });
} else {
  jest.setTimeout(90_000);

  describe('Dashboard in a browser', () => {
    let mono: MonolithHarness;
    let serviceDb: TestDatabase;
    let service: Served;
    let stopService: () => Promise<void>;
    let analytics: Stub;
    let gw: GatewayHarness;
    let context: BrowserContext;
    let page: Page;
    let profile: string;
    let output: string;
    let changed: { id: string; name: string };
    const requested: string[] = [];

    const row = (domain: string) => page.locator(`#route-${domain}`);

    beforeAll(async () => {
      mono = await startMonolith('gw_dash_mono');
      await mono.monolith.modules.products.api.seedDemoCatalog();
      serviceDb = await createTestDatabase('gw_dash_psvc');
      const built = buildProductsService({ knex: serviceDb.knex, logger: createLogger('t', 'silent'), jwksUrl: `${mono.served.url}/api/users/.well-known/jwks.json` });
      await built.start();
      stopService = () => built.stop();
      service = await serve(built.app, 0);
      await backfill(loadSyncSpec('products'), { source: mono.db.knex, target: serviceDb.knex });
      const [first] = await serviceDb.knex('products.products').orderBy('id').limit(1);
      changed = { id: first.id, name: first.name };
      await serviceDb.knex('products.products').where({ id: first.id }).update({ name: `${first.name} (service copy)` });

      analytics = await startStub('analytics-service');
      gw = await startGateway({
        label: 'gw_dash_browser',
        monolith: mono.served.url,
        services: { products: service.url, analytics: analytics.url },
        routes: { products: [{ name: 'list', method: 'GET', path: '/api/products' }] },
        env: {
          MONOLITH_DATABASE: mono.db.settings.database,
          PRODUCTS_DATABASE: serviceDb.settings.database,
          PAYMENTS_DATABASE: ABSENT,
          NOTIFICATIONS_DATABASE: ABSENT,
          // The charts sample twice a second here, so the test's traffic shows on them.
          GATEWAY_DASHBOARD_SAMPLE_MS: '500',
          // No relay runs here, so the service lags the monolith's outbox: a bound of 1 ms makes
          // the preflight refuse whatever the time since the catalogue was seeded.
          GATEWAY_PREFLIGHT_MAX_LAG_MS: '1',
        },
      });

      profile = mkdtempSync(path.join(os.tmpdir(), 'banyan-chromium-'));
      output = mkdtempSync(path.join(os.tmpdir(), 'banyan-dashboard-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
        viewport: { width: 1440, height: 1000 },
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('request', (r) => requested.push(r.url()));
    }, 120_000);

    afterAll(async () => {
      await context?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
      await gw?.close();
      await service?.close(1_000);
      await stopService?.();
      await analytics?.close();
      await serviceDb?.drop();
      await mono?.close();
    });

    test('The page loads without a token, with its CSP, and asks for the token', async () => {
      const res = await page.goto(gw.adminUrl);
      expect(res!.status()).toBe(200);
      expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
      expect(res!.headers()['x-frame-options']).toBe('DENY');
      await expect(page.getByLabel(/Admin token/).isVisible()).resolves.toBe(true);
      expect(await page.locator('#dashboard').isHidden()).toBe(true);
    });

    test('A wrong token is refused with a message saying which token to use', async () => {
      await page.getByLabel(/Admin token/).fill('not-the-token-0123456789');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('The gateway refused this token').waitFor();
      expect(await page.locator('#dashboard').isHidden()).toBe(true);
    });

    test('With the right token every domain shows its mode and targets; the token stays in the session, never in the URL', async () => {
      await page.getByLabel(/Admin token/).fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await row('products').locator('[data-field="mode"]', { hasText: 'monolith' }).waitFor();
      expect(await row('products').locator('[data-field="targets"]').innerText()).toContain(service.url);
      expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('banyan.adminToken'))).toBe(ADMIN_TOKEN);
      expect(requested.every((url) => !url.includes(ADMIN_TOKEN))).toBe(true);
      expect(page.url()).toBe(`${gw.adminUrl}/`);
    });

    test('Switching products to canary 50 % changes the routing table and the routed responses', async () => {
      await page.getByLabel('Mode for products', { exact: true }).selectOption('canary');
      await page.getByLabel('Canary percent for products', { exact: true }).fill('50');
      await row('products').locator('form:not([data-rule])').getByRole('button', { name: 'Apply' }).click();
      // No relay runs here: the monolith's outbox keeps its events, so the service lags behind it
      // and the preflight refuses; the page names the failed check and lets the operator force it.
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await dialog.innerText()).toMatch(/Preflight failed[\s\S]*The preflight of products → extracted failed:\n• sync-lag: the extracted side is \d+ ms behind the monolith side \(\d+ unpublished/);
      await dialog.getByRole('button', { name: 'Switch' }).click();
      await row('products').locator('[data-field="mode"]', { hasText: 'canary 50 %' }).waitFor();
      expect((await gw.adminApi.get('/audit?domain=products')).body.items[0]).toMatchObject({ actor: 'dashboard', note: expect.stringMatching(/^forced past a failed preflight: sync-lag: /) });

      const routes = (await gw.adminApi.get('/routes')).body.routes;
      expect(routes.find((r: { domain: string }) => r.domain === 'products')).toMatchObject({ mode: 'canary', percent: 50, updatedBy: 'dashboard' });

      // Each request without a cookie is a new visitor with its own bucket: both sides answer. (One
      // product, not the list: the list is a rule of its own, inheriting, so its header names it.)
      const sides = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const res = await gw.api.get(`/api/products/${changed.id}`);
        expect(res.status).toBe(200);
        const route = res.headers.get('x-banyan-route')!;
        const match = /^(monolith|extracted); mode=canary; bucket=(\d+)$/.exec(route);
        expect(match).not.toBeNull();
        expect(match![1]).toBe(Number(match![2]) < 50 ? 'extracted' : 'monolith');
        sides.add(match![1]);
      }
      expect([...sides].sort()).toEqual(['extracted', 'monolith']);
    });

    test('A switch sending 100 % to the service asks first; cancelling changes nothing', async () => {
      await page.getByLabel('Mode for products', { exact: true }).selectOption('extracted');
      await row('products').locator('form:not([data-rule])').getByRole('button', { name: 'Apply' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await dialog.innerText()).toContain('Send 100 % of products traffic to the extracted service');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await row('products').getByText('Not changed.').waitFor();
      expect(gw.gateway.table().rows.get('products')).toMatchObject({ mode: 'canary', percent: 50 });

      await page.getByLabel('Mode for products', { exact: true }).selectOption('canary');
      await page.getByLabel('Canary percent for products', { exact: true }).fill('100');
      await row('products').locator('form:not([data-rule])').getByRole('button', { name: 'Apply' }).click();
      await dialog.getByRole('button', { name: 'Switch' }).click();
      // Then its preflight, refused as before: forced.
      await page.getByRole('dialog', { name: 'Preflight failed' }).waitFor();
      await dialog.getByRole('button', { name: 'Switch' }).click();
      await row('products').locator('[data-field="mode"]', { hasText: 'canary 100 %' }).waitFor();
      expect(gw.gateway.table().rows.get('products')).toMatchObject({ mode: 'canary', percent: 100 });
    });

    test('In shadow mode the match rate shows, and a mismatch opens as a side-by-side diff with both trace ids', async () => {
      await page.getByLabel('Mode for products', { exact: true }).selectOption('shadow');
      await row('products').locator('form:not([data-rule])').getByRole('button', { name: 'Apply' }).click();
      await row('products').locator('[data-field="mode"]', { hasText: 'shadow' }).waitFor();
      // Shadow sends no client to the service: no confirmation needed.
      expect(await page.getByRole('dialog').isVisible()).toBe(false);

      const [other] = await mono.db.knex('products.products').whereNot({ id: changed.id }).limit(1);
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      for (const id of [changed.id, other.id, other.id]) expect((await gw.api.get(`/api/products/${id}`, undefined, { traceparent })).status).toBe(200);
      for (let i = 0; i < 100 && (await gw.adminApi.get('/shadow/products')).body.compared < 3; i++) await sleep(20);
      const report = (await gw.adminApi.get('/shadow/products')).body;
      expect(report).toMatchObject({ compared: 3, matched: 2, mismatched: 1 });

      await page.locator('#shadow tr', { hasText: 'products' }).getByText('66.7 %').waitFor();
      await page.getByRole('button', { name: 'Mismatches of products' }).click();
      await page.locator('#mismatches').getByText(`GET /api/products/${changed.id}`).waitFor();
      await page.getByRole('button', { name: 'Show diff' }).click();

      const primary = page.locator('#diff-primary');
      const candidate = page.locator('#diff-candidate');
      await primary.waitFor();
      const [m] = report.mismatches;
      expect(await primary.locator('.line.changed').innerText()).toContain(`"name": "${changed.name}"`);
      expect(await candidate.locator('.line.changed').innerText()).toContain(`"name": "${changed.name} (service copy)"`);
      // Unchanged lines are shown on both sides but not highlighted.
      expect(await candidate.locator('.line:not(.changed)', { hasText: '"sku"' }).count()).toBe(1);
      expect(await primary.locator('figcaption').innerText()).toContain(m.primary.requestId);
      expect(await candidate.locator('figcaption').innerText()).toContain(m.candidate.requestId);
      // Both calls belong to the client's trace, each with its own span: find them in Jaeger by this id.
      expect(m.primary.traceparent).toBe(traceparent);
      expect(await primary.locator('figcaption').innerText()).toContain('0af7651916cd43dd8448eb211c80319c');
      expect(await candidate.locator('figcaption').innerText()).toContain('0af7651916cd43dd8448eb211c80319c');
      expect(await page.locator('#diff-ops').innerText()).toMatch(/replace\s+\/name/);
    });

    test('Verify runs from the page and shows the difference; the outboxes show their backlog, and missing databases say so', async () => {
      await page.getByRole('button', { name: 'Run verify for products' }).click();
      await page.locator('#verify tr', { hasText: 'products' }).getByText(/\d+ rows compared, 1 difference$/).waitFor();
      const monolithOutbox = page.locator('#outbox tr', { hasText: mono.db.settings.database });
      await monolithOutbox.waitFor();
      const backlog = Number(await monolithOutbox.locator('td').first().innerText());
      expect(backlog).toBeGreaterThan(0);
      await page.locator('#outbox tr', { hasText: ABSENT }).getByText('not created').waitFor();
      await page.locator('#breakers tr', { hasText: service.url }).getByText('closed').waitFor();
    });

    test('A route rule changed from the page moves only its requests: the rest of the domain stays', async () => {
      const form = row('products').locator('form[data-rule="list"]');
      await form.getByText('rule list: GET /api/products').waitFor();
      expect(await page.getByLabel('Mode for products rule list').inputValue()).toBe('inherit');
      await page.getByLabel('Mode for products rule list').selectOption('extracted');
      await form.getByRole('button', { name: 'Apply' }).click();
      // The same flow as a domain's: 100 % asks first, then the refused preflight is offered as forced.
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await dialog.innerText()).toContain('Send 100 % of products rule list traffic to the extracted service');
      await dialog.getByRole('button', { name: 'Switch' }).click();
      await page.getByRole('dialog', { name: 'Preflight failed' }).waitFor();
      expect(await dialog.innerText()).toMatch(/The preflight of products rule list → extracted failed:\n• sync-lag: /);
      await dialog.getByRole('button', { name: 'Switch' }).click();
      await form.getByText('Now extracted.').waitFor();
      await row('products').locator('[data-field="mode"]', { hasText: 'GET /api/products: extracted' }).waitFor();
      expect(gw.gateway.table().rules.get('products#list')).toMatchObject({ mode: 'extracted', inherit: false });
      expect(gw.gateway.table().rows.get('products')).toMatchObject({ mode: 'shadow' });
      expect((await gw.adminApi.get('/audit?domain=products')).body.items[0]).toMatchObject({ actor: 'dashboard', note: expect.stringMatching(/^forced past a failed preflight: /) });

      const list = await gw.api.get('/api/products?limit=1');
      expect(list.status).toBe(200);
      expect(list.headers.get('x-banyan-route')).toBe('extracted; mode=extracted; rule=products.list');
      const one = await gw.api.get(`/api/products/${changed.id}`);
      expect(one.status).toBe(200);
      expect(one.headers.get('x-banyan-route')).toBe('monolith; mode=shadow');
    });

    test("Each domain's last hour is drawn, and a ramp started from the page shows its steps with their verdicts", async () => {
      // Products' sync lags here (no relay runs): the ramp's first step fails its preflight and rolls back.
      await page.getByLabel('Ramp', { exact: true }).selectOption('products');
      await page.getByLabel('steps', { exact: true }).fill('10,50,100');
      await page.getByLabel('hold each', { exact: true }).fill('1m');
      await page.getByRole('button', { name: 'Start ramp' }).click();
      await page.locator('#ramp-message').getByText(/^Ramp \d+ started: 10 % → 50 % → 100 %, holding 1\.0 min each\.$/).waitFor();
      const [started] = (await gw.adminApi.get('/ramps')).body.items;
      expect(started).toMatchObject({ key: 'products', steps: [10, 50, 100], holdMs: 60_000, actor: 'dashboard' });
      const ramp = page.locator('#ramps tr', { hasText: 'rolled-back' });
      await ramp.waitFor();
      expect(await ramp.locator('.step').allInnerTexts()).toEqual(['10 % ✗', '50 %', '100 %']);
      expect(await ramp.locator('.step.preflight-failed').getAttribute('title')).toMatch(/^preflight-failed\nsync-lag: the extracted side is \d+ ms behind/);
      expect(await ramp.locator('td').last().innerText()).toMatch(/^preflight failed: sync-lag: /);

      // The charts are fetched with the token and shown from blob: URLs, allowed by the CSP.
      const chart = page.locator('#chart-products');
      await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { complete: boolean; naturalWidth: number; src: string } } }).document.querySelector('#chart-products').naturalWidth > 0);
      const firstDrawn = await chart.getAttribute('src');
      expect(firstDrawn).toMatch(/^blob:/);
      // Redrawn every 10 s: the next one has this test file's traffic on it (and goes in the screenshot).
      await page.waitForFunction((before) => (globalThis as unknown as { document: { querySelector(s: string): { src: string } } }).document.querySelector('#chart-products').src !== before, firstDrawn, { timeout: 15_000 });
      const svg = (await gw.adminApi.get('/charts/products')).text;
      expect(svg).toContain('class="extracted area" d="M');
      expect(svg).toContain('class="shadow" d="M');
    });

    test('A ramp refused by the admin API says why; a running one is aborted from the page', async () => {
      const message = page.locator('#ramp-message');
      await page.getByLabel('Ramp', { exact: true }).selectOption('analytics');
      await page.getByLabel('steps', { exact: true }).fill('50,10');
      await page.getByRole('button', { name: 'Start ramp' }).click();
      await message.getByText(/^Not started: (steps: )?steps must rise \(shadow only first\), e\.g\. \[1, 5, 25, 50, 100\]$/).waitFor();

      // Gates in the CLI's formats; one it cannot read is refused before anything is sent.
      await page.getByLabel('steps', { exact: true }).fill('shadow,10,100');
      await page.locator('#ramp-gates summary').click();
      await page.getByLabel('max error rate over the old side').fill('lots');
      await page.getByRole('button', { name: 'Start ramp' }).click();
      await message.getByText('Not started: max error rate: a rate from 0 to 1, or a percent: 0.01 or 1%.').waitFor();
      expect((await gw.adminApi.get('/ramps?domain=analytics')).body.items).toEqual([]);
      await page.getByLabel('max error rate over the old side').fill('2%');
      await page.getByLabel('p99 floor').fill('250ms');
      await page.getByLabel('min requests per step').fill('7');

      // Analytics declares no data sync and its stub is ready: the preflight passes and the ramp holds its first step.
      await page.getByRole('button', { name: 'Start ramp' }).click();
      await message.getByText(/^Ramp \d+ started: shadow → 10 % → 100 %/).waitFor();
      const [ramp] = (await gw.adminApi.get('/ramps')).body.items;
      expect(ramp).toMatchObject({ key: 'analytics', status: 'running' });
      // The gates left empty keep their defaults (their placeholders).
      expect(ramp.thresholds).toEqual({ maxErrorRate: 0.02, maxP99Ratio: 2, p99FloorMs: 250, maxMismatchRate: 0.01, maxLagMs: 5_000, minRequests: 7 });
      expect(await page.getByLabel('max sync lag').getAttribute('placeholder')).toBe('5s');
      const shown = page.locator(`#ramps tr[data-ramp="${ramp.id}"]`);
      await shown.locator('.step.current').waitFor();
      // The driver takes the ramp at its next tick (GATEWAY_RAMP_TICK_MS, 1 s) and moves analytics to its first step.
      for (let i = 0; i < 250 && gw.gateway.table().rows.get('analytics')!.mode !== 'shadow'; i++) await sleep(20);
      expect(gw.gateway.table().rows.get('analytics')).toMatchObject({ mode: 'shadow' });

      await shown.getByRole('button', { name: `Abort ramp ${ramp.id}` }).click();
      await message.getByText(`Ramp ${ramp.id} aborted: analytics is back where it was before the ramp.`).waitFor();
      await shown.getByText('aborted by dashboard').waitFor();
      expect(await shown.getByRole('button').count()).toBe(0);
      expect(gw.gateway.table().rows.get('analytics')).toMatchObject({ mode: 'monolith' });
      expect((await gw.adminApi.get('/audit?domain=analytics')).body.items[0]).toMatchObject({ actor: 'dashboard', note: `ramp ${ramp.id} aborted by dashboard` });
    });

    test('Every request the page made went to the gateway itself; a screenshot is saved', async () => {
      // Let one 2 s refresh show the latest rates before the picture.
      await sleep(2_100);
      expect(requested.length).toBeGreaterThan(5);
      // The charts' blob: URLs are the page's own, made from what it fetched from the gateway.
      expect(requested.filter((url) => !url.startsWith(gw.adminUrl) && !url.startsWith(`blob:${gw.adminUrl}/`))).toEqual([]);
      const file = path.join(output, 'dashboard.png');
      await page.screenshot({ path: file, fullPage: true });
      expect(existsSync(file)).toBe(true);
      if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(file, SCREENSHOT_IN_DOCS);
    });

    test("When the gateway's database goes away, the page says so and a change is refused with the reason", async () => {
      // Dropped under the running gateway (FORCE ends its connections), as in state.test.ts.
      await dropDatabase(gw.db.settings);
      await gw.gateway.reload();
      await page.locator('#banner').getByText("The gateway's routing database is unreachable").waitFor();
      await page.getByLabel('Mode for products', { exact: true }).selectOption('monolith');
      await row('products').locator('form:not([data-rule])').getByRole('button', { name: 'Apply' }).click();
      await row('products').getByText(/^Not changed: The routing database is unreachable/).waitFor();
      await page.locator('#outbox tr', { hasText: mono.db.settings.database }).getByText(/unreachable: the gateway's own database did not answer/).waitFor();
      expect(gw.gateway.table().rows.get('products')).toMatchObject({ mode: 'shadow' });
    });

    test('Signing out forgets the token', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel(/Admin token/).waitFor();
      expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('banyan.adminToken'))).toBeNull();
      expect(await page.locator('#dashboard').isHidden()).toBe(true);
    });
  });
}
