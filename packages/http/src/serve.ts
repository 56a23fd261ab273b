import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Served {
  server: Server;
  port: number;
  url: string;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), then close idle sockets. */
  close(graceMs?: number): Promise<void>;
}

/** `listen()` kept apart from building the app, so tests serve the same app on port 0. */
export function serve(app: Express, port = 0, host = '127.0.0.1'): Promise<Served> {
  return listenServer(http.createServer(app), port, host);
}

/**
 * Listen with Banyan's semantics (port 0 for tests, keep-alive longer than a balancer's idle
 * timeout, graceful close) on a server the caller made — the gateway builds its own.
 */
export function listenServer(server: Server, port = 0, host = '127.0.0.1'): Promise<Served> {
  return new Promise((resolve, reject) => {
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
