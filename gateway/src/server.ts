import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Served } from '@banyan/http';

/**
 * Serve the public handler on node:http directly, with @banyan/http's `serve` semantics (port 0
 * for tests, graceful close). Express's router measured several times slower per request than
 * the proxying itself (ADR 0207), and the public port needs none of it.
 */
export function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0, host = '127.0.0.1'): Promise<Served> {
  return new Promise((resolve, reject) => {
    const server = http.createServer({ noDelay: true }, handler);
    // The OpenTelemetry http instrumentation wraps http.Server.prototype.emit to run every request
    // in its own context; the gateway traces its hop itself at a fraction of that cost (ADR 0208),
    // so this server dispatches its events with the plain EventEmitter.
    server.emit = EventEmitter.prototype.emit;
    // Longer than the usual load balancer idle timeout, so the balancer closes first (no reset race).
    server.keepAliveTimeout = 65_000;
    server.once('error', reject);
    server.listen(port, host, () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({
        server,
        port: actual,
        url: `http://${host}:${actual}`,
        close: (graceMs = 10_000) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => server.closeAllConnections(), graceMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
