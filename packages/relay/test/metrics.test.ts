import { createKnex } from '@banyan/db';
import type { TestDatabase } from '@banyan/testing';
import { promClient } from '@banyan/telemetry';
import type { Relay } from '../src';
import { serveRelayHttp, type RelayHttp } from '../src/http';
import { observeOutbox, relayMetrics } from '../src/metrics';
import { captureQueue, outboxDatabase, sleep, startRelay, testNamespace, writeEvents } from './support';

/**
 * The relay's metrics as Prometheus scrapes them from its HTTP server, against a real database
 * and broker: what was confirmed, what failed and was parked, and the outbox's state read at the
 * scrape itself.
 */
describe('relay metrics and probes', () => {
  let db: TestDatabase;
  let relay: Relay | undefined;
  let http: RelayHttp | undefined;
  let capture: Awaited<ReturnType<typeof captureQueue>> | undefined;
  const cleanups: Array<() => void> = [];

  beforeAll(async () => {
    db = await outboxDatabase('relay_metrics');
  });
  afterAll(async () => {
    await relay?.stop();
    cleanups.forEach((c) => c());
    await http?.close();
    await capture?.close();
    await db.drop();
  });

  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('When events are confirmed, one unroutable event is parked and two wait unpublished, then /metrics shows each of them', async () => {
    const database = db.settings.database;
    const namespace = testNamespace('metrics');
    // Only products are bound: the order.created event below comes back unroutable.
    capture = await captureQueue(namespace, ['products']);
    await writeEvents(db.knex, 40, { aggregates: 4, perTransaction: 10 });
    await writeEvents(db.knex, 1, { aggregates: 1, type: 'order.created' });

    cleanups.push(observeOutbox(db.knex, database));
    // Assigned once the relay exists; the metrics read it lazily.
    // eslint-disable-next-line prefer-const
    let measured: Relay | undefined;
    const metrics = relayMetrics(() => measured?.stats);
    cleanups.push(metrics.close);
    let ready = false;
    http = await serveRelayHttp({ host: '127.0.0.1', port: 0, ready: async () => ready });
    expect((await fetch(`${http.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${http.url}/readyz`)).status).toBe(503);

    relay = await startRelay(db, namespace, { afterConfirm: metrics.afterConfirm, parkAfterAttempts: 2, retryDelayMs: 50, maxRetryDelayMs: 50 });
    measured = relay;
    ready = true;
    expect(await capture.waitFor(40)).toBe(40);
    for (let i = 0; i < 100 && relay.stats.parked < 1; i++) await sleep(50);
    // Two committed events the relay has not read yet (it is stopped): the backlog and its age.
    await relay.stop();
    relay = undefined;
    await writeEvents(db.knex, 2, { aggregates: 1 });
    await sleep(1_100);

    const res = await fetch(`${http.url}/metrics`);
    expect(res.headers.get('content-type')).toBe(promClient.register.contentType);
    const text = await res.text();
    expect(value(text, 'banyan_relay_published_total{event_type="product.stock_changed"}')).toBe(40);
    expect(value(text, 'banyan_relay_publish_failures_total{kind="returned"}')).toBe(2);
    expect(value(text, 'banyan_relay_parked_total')).toBe(1);
    expect(value(text, 'banyan_relay_confirm_lag_seconds_count')).toBe(40);
    expect(value(text, `banyan_outbox_parked{database="${database}"}`)).toBe(1);
    expect(value(text, `banyan_outbox_backlog{database="${database}"}`)).toBe(2);
    expect(value(text, `banyan_outbox_oldest_unpublished_age_seconds{database="${database}"}`)).toBeGreaterThanOrEqual(1);
    expect(value(text, `banyan_outbox_up{database="${database}"}`)).toBe(1);
    expect((await fetch(`${http.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${http.url}/nowhere`)).status).toBe(404);
  }, 30_000);

  it('When the database is gone, the scrape still answers, with banyan_outbox_up 0 and no stale backlog', async () => {
    const missing = createKnex({ ...db.settings, database: 'banyan_no_such_db' }, { max: 1 });
    const stop = observeOutbox(missing, 'banyan_no_such_db');
    try {
      const text = await (await fetch(`${http!.url}/metrics`)).text();
      expect(value(text, 'banyan_outbox_up{database="banyan_no_such_db"}')).toBe(0);
      expect(value(text, 'banyan_outbox_backlog{database="banyan_no_such_db"}')).toBeUndefined();
      expect(value(text, `banyan_outbox_up{database="${db.settings.database}"}`)).toBe(1);
    } finally {
      stop();
      await missing.destroy();
    }
  });
});
