import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectProcessMetrics, promClient } from '@banyan/telemetry';

export interface RelayHttpOptions {
  host: string;
  port: number;
  /** Readiness: the relay has started and its database answers. */
  ready: () => Promise<boolean>;
}

export interface RelayHttp {
  url: string;
  close(): Promise<void>;
}

/**
 * The relay's small HTTP face: /healthz (the process answers), /readyz (it relays), /metrics
 * (Prometheus, the default registry). node:http rather than express: three fixed routes, and the
 * relay should not carry a web framework for them.
 */
export async function serveRelayHttp(options: RelayHttpOptions): Promise<RelayHttp> {
  collectProcessMetrics();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'application/json', '{"status":"method not allowed"}');
    if (path === '/healthz') return send(res, 200, 'application/json', '{"status":"ok"}');
    if (path === '/readyz') {
      options.ready().then(
        (ok) => send(res, ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ready' : 'not ready' })),
        () => send(res, 503, 'application/json', '{"status":"not ready"}'),
      );
      return;
    }
    if (path === '/metrics') {
      promClient.register.metrics().then(
        (text) => send(res, 200, promClient.register.contentType, text),
        (err: Error) => send(res, 500, 'text/plain', `metrics failed: ${err.message}`),
      );
      return;
    }
    send(res, 404, 'application/json', '{"status":"not found"}');
  });
  // A probe that hangs its connection open must not keep the relay from stopping.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(res.req.method === 'HEAD' ? undefined : body);
}
