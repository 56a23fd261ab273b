import type { NextFunction, Request, Response } from 'express';
import client from 'prom-client';

export { client as promClient };

/**
 * Seconds. Dense between 5 ms and 1 s, where a proxied hop and a database round trip live, so
 * p95/p99 comparisons between the monolith and a service are not hidden inside one bucket.
 */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10];

let defaultsCollected = false;

/** Process metrics (CPU, memory, event loop lag, GC) once per process, when metrics are first used. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  // A process may already collect them itself (the gateway does); prom-client throws on a second registration.
  if (!client.register.getSingleMetric('process_cpu_user_seconds_total')) client.collectDefaultMetrics();
}

function durationHistogram(): client.Histogram<'method' | 'route' | 'status_code'> {
  const name = 'http_server_request_duration_seconds';
  // One histogram per process even when several apps mount the middleware (the gateway has a
  // public and an admin app): prom-client refuses to register a name twice.
  const existing = client.register.getSingleMetric(name);
  if (existing) return existing as client.Histogram<'method' | 'route' | 'status_code'>;
  return new client.Histogram({
    name,
    help: 'Duration of HTTP requests served, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: DURATION_BUCKETS,
  });
}

export interface HttpMetricsOptions {
  /**
   * The route label when express matched no route (a proxy, a catch-all). Templates only: a raw
   * URL with ids in it would create one time series per id.
   */
  routeOf?: (req: Request, res: Response) => string | undefined;
}

/**
 * Express middleware: one histogram gives request rate (`_count`), errors (`status_code`
 * 5xx) and latency (`_bucket`) per method and route template. Mount it first, so time spent
 * in body parsing and other middleware counts.
 */
export function httpMetrics(options: HttpMetricsOptions = {}) {
  collectProcessMetrics();
  const histogram = durationHistogram();
  return (req: Request, res: Response, next: NextFunction) => {
    const stop = histogram.startTimer();
    // The template is read when express assigns req.route, because by the time the response
    // finishes a nested router may have restored req.baseUrl (it does when a handler throws),
    // which would turn `/api/orders/:id` into `/:id`.
    let template: string | undefined;
    let route: unknown;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set: (value: { path?: unknown } | undefined) => {
        route = value;
        // A router's root route under its mount point is `/api/orders`, as the request was written, not `/api/orders/`.
        if (value && typeof value.path === 'string') template = value.path === '/' && req.baseUrl ? req.baseUrl : `${req.baseUrl ?? ''}${value.path}`;
      },
    });
    res.once('finish', () => {
      const label = template ?? options.routeOf?.(req, res) ?? 'unmatched';
      stop({ method: req.method, route: label, status_code: String(res.statusCode) });
    });
    next();
  };
}

/** GET /metrics: everything in the default registry, including the process metrics. */
export function metricsHandler(_req: Request, res: Response, next: NextFunction): void {
  collectProcessMetrics();
  client.register.metrics().then((text) => {
    res.setHeader('content-type', client.register.contentType);
    res.send(text);
  }, next);
}
