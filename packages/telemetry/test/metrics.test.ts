import type { AddressInfo } from 'node:net';
import express from 'express';
import { httpMetrics, metricsHandler } from '../src';

async function withServer(run: (url: string) => Promise<void>) {
  const app = express();
  app.use(httpMetrics());
  app.get('/metrics', metricsHandler);
  const orders = express.Router();
  orders.get('/', (_req, res) => void res.json({ items: [] }));
  orders.get('/:id', (req, res) => void res.json({ id: req.params.id }));
  orders.post('/:id/fail', () => {
    throw new Error('boom');
  });
  app.use('/api/orders', orders);
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

test('GET /metrics serves Prometheus text with the request histogram by method, route template and status, plus process metrics', async () => {
  await withServer(async (url) => {
    await fetch(`${url}/api/orders/0190a3b2-1`);
    await fetch(`${url}/api/orders/0190a3b2-2`);
    await fetch(`${url}/api/orders/0190a3b2-3/fail`, { method: 'POST' });
    await fetch(`${url}/nowhere`);
    await fetch(`${url}/api/orders`);

    const res = await fetch(`${url}/metrics`);
    const text = await res.text();

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');
    // Route templates, not raw paths: two ids are one series.
    expect(text).toMatch(/http_server_request_duration_seconds_count\{method="GET",route="\/api\/orders\/:id",status_code="200"\} 2\n/);
    expect(text).toMatch(/http_server_request_duration_seconds_count\{method="POST",route="\/api\/orders\/:id\/fail",status_code="500"\} 1\n/);
    expect(text).toMatch(/http_server_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1\n/);
    // A router's root route is labelled as requested, without a trailing slash.
    expect(text).toMatch(/http_server_request_duration_seconds_count\{method="GET",route="\/api\/orders",status_code="200"\} 1\n/);
    expect(text).not.toContain('0190a3b2');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

test('mounting the middleware in two apps of one process (public + admin) shares one histogram instead of failing', () => {
  expect(() => {
    httpMetrics();
    httpMetrics();
  }).not.toThrow();
});
