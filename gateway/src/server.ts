import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listenServer, type Served } from '@banyan/http';

/**
 * Serve the public handler on node:http directly, with @banyan/http's `serve` semantics (port 0
 * for tests, graceful close). Express's router measured several times slower per request than
 * the proxying itself (ADR 0207), and the public port needs none of it.
 */
export function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0, host = '127.0.0.1'): Promise<Served> {
  const server = http.createServer({ noDelay: true }, handler);
  // The OpenTelemetry http instrumentation wraps http.Server.prototype.emit to run every request
  // in its own context; the gateway traces its hop itself at a fraction of that cost (ADR 0208),
  // so this server dispatches its events with the plain EventEmitter.
  server.emit = EventEmitter.prototype.emit;
  return listenServer(server, port, host);
}
