import type { AddressInfo } from 'node:net';
import express from 'express';
import { httpMetrics, metricsHandler, promClient } from '../src';

test('a process that already collects the default process metrics itself can still mount httpMetrics and /metrics', async () => {
  promClient.collectDefaultMetrics();

  const app = express();
  expect(() => app.use(httpMetrics())).not.toThrow();
  app.get('/metrics', metricsHandler);
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
