import { randomUUID } from 'node:crypto';
import express, { type Express, type Request } from 'express';
import pinoHttp from 'pino-http';
import { httpMetrics, metricsHandler, type Logger } from '@banyan/telemetry';
import { notFoundHandler, problemHandler } from './problems';

export interface HttpAppOptions {
  logger: Logger;
  /** Readiness: every check must pass (e.g. the database answers). */
  readinessChecks?: Record<string, () => Promise<boolean>>;
  /** The JSON body limit of the contract. */
  bodyLimit?: string;
  /**
   * Serve Prometheus `GET /metrics` (default registry: HTTP duration histogram, process metrics
   * and whatever the process registers). Off for apps that serve their own registry.
   */
  metrics?: boolean;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The parts every Banyan HTTP process shares, in the order they must run: request id, access
 * log, health probes, JSON body parsing with the contract's limit. Mount routes on the returned
 * app, then call `finishHttpApp` to add the 404 and problem+json handlers.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    // Propagate the caller's id (the gateway sets one) when it is sane, else make one.
    const incoming = req.header('x-request-id');
    const id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    (req as Request & { id: string }).id = id;
    res.setHeader('x-request-id', id);
    next();
  });
  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: (req) => (req as unknown as { id: string }).id,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  if (options.metrics) {
    app.use(httpMetrics());
    app.get('/metrics', metricsHandler);
  }

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = Object.entries(options.readinessChecks ?? {});
    const results = await Promise.all(checks.map(async ([name, check]) => [name, await check().catch(() => false)] as const));
    const ready = results.every(([, ok]) => ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });

  app.use(express.json({ limit: options.bodyLimit ?? '1mb', strict: true, type: ['application/json', 'application/*+json'] }));
  return app;
}

export function finishHttpApp(app: Express): Express {
  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}
