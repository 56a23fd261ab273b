import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenServer, type Served } from '@banyan/http';

/** The public port's deadlines and caps (docs/gateway.md#security lists each with its default). */
export interface FrontDoor {
  /** All headers must have arrived within this time of the connection or the previous request (slowloris). */
  headersTimeoutMs: number;
  /** The whole request, headers and body, within this time (node:http's own backstop; body.ts answers first). */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Request line and headers together; larger is 431. */
  maxHeaderBytes: number;
  /** Open connections from one client address; 0 for no cap (behind a load balancer every client shares its address). */
  maxConnectionsPerClient: number;
  /** Called when a connection is refused for the per-client cap. */
  onRefused?: (address: string) => void;
}

export const DEFAULT_FRONT_DOOR: FrontDoor = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16_384,
  maxConnectionsPerClient: 256,
};

/** What node:http's parser errors mean to a client, as problem+json; the connection is then closed. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'GATEWAY.HEADERS_TOO_LARGE', 'The request headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'GATEWAY.REQUEST_TIMEOUT', 'The request did not arrive in time.'],
  HPE_HEADERS_TIMEOUT: [408, 'GATEWAY.REQUEST_TIMEOUT', 'The request headers did not arrive in time.'],
};

function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage?.headersSent) return void socket.destroy();
  const [status, code, detail] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'GATEWAY.BAD_FRAMING', 'The request could not be parsed as one HTTP/1.1 request.'];
  const body = JSON.stringify({ type: `https://banyan.dev/errors/${code}`, title: http.STATUS_CODES[status], status, code, detail });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // Whatever else the client sent on this connection is not read: its framing is in doubt.
  socket.destroySoon?.();
}

/**
 * Serve the public handler on node:http directly, with @banyan/http's `serve` semantics (port 0
 * for tests, graceful close). Express's router measured several times slower per request than
 * the proxying itself (ADR 0207), and the public port needs none of it.
 */
export function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0, host = '127.0.0.1', door: FrontDoor = DEFAULT_FRONT_DOOR): Promise<Served> {
  const server = http.createServer(
    {
      noDelay: true,
      headersTimeout: door.headersTimeoutMs,
      requestTimeout: door.requestTimeoutMs,
      keepAliveTimeout: door.keepAliveTimeoutMs,
      maxHeaderSize: door.maxHeaderBytes,
      // How often node:http checks the two timeouts above (default 30 s, far coarser than them).
      connectionsCheckingInterval: Math.min(1_000, door.headersTimeoutMs),
      // The lenient parser accepts exactly the framings smuggling relies on.
      insecureHTTPParser: false,
      requireHostHeader: true,
    },
    handler,
  );
  // The OpenTelemetry http instrumentation wraps http.Server.prototype.emit to run every request
  // in its own context; the gateway traces its hop itself at a fraction of that cost (ADR 0208),
  // so this server dispatches its events with the plain EventEmitter.
  server.emit = EventEmitter.prototype.emit;
  server.on('clientError', answerClientError);
  if (door.maxConnectionsPerClient > 0) capConnections(server, door);
  return listenServer(server, port, host);
}

/** At most `maxConnectionsPerClient` open connections per remote address; the next is closed unread. */
function capConnections(server: http.Server, door: FrontDoor): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if (count >= door.maxConnectionsPerClient) {
      door.onRefused?.(address);
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
