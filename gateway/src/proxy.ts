import type { Agent, ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import type { ProxyTarget, Upstream } from './upstreams';

/** The upstream answered with a server error: a failure for the breaker, a response for the client. */
export class UpstreamStatusError extends Error {
  readonly code = 'EUPSTREAMSTATUS';
  constructor(readonly response: IncomingMessage) {
    super(`upstream answered ${response.statusCode}`);
  }
}
export class UpstreamTimeoutError extends Error {
  readonly code = 'EUPSTREAMTIMEOUT';
  constructor(ms: number) {
    super(`upstream did not answer within ${ms} ms`);
  }
}

/** The outcome of one attempt: the upstream's response, or null when the client went away first. */
export type Attempt = IncomingMessage | null;

interface Flight {
  target: ProxyTarget;
  settled: boolean;
  proxyReq?: ClientRequest;
  response?: IncomingMessage;
  resolve(value: Attempt): void;
  reject(err: Error): void;
}

const FLIGHT = Symbol('banyan.flight');
type WithFlight = IncomingMessage & { [FLIGHT]?: Flight };

/**
 * One http-proxy-middleware instance for every route. The routing decision is made before the
 * proxy runs and stored on the request; `router` only reads it. The proxy's own plugins (error
 * page, logger) are ejected: they allocate per request and answer errors in their own format,
 * while the gateway answers with problem+json and needs each attempt's outcome as a promise
 * (for the breaker and the fallback).
 */
export function createForwarder(options: { agent: Agent; timeoutMs: number }) {
  const bridge: Plugin = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq, req) => {
      const flight = (req as WithFlight)[FLIGHT];
      if (!flight) return;
      flight.proxyReq = proxyReq;
      proxyReq.setTimeout(options.timeoutMs, () => proxyReq.destroy(new UpstreamTimeoutError(options.timeoutMs)));
    });
    proxyServer.on('proxyRes', (proxyRes, req) => {
      const flight = (req as WithFlight)[FLIGHT];
      if (!flight || flight.settled) return void proxyRes.resume();
      flight.settled = true;
      flight.response = proxyRes;
      if ((proxyRes.statusCode ?? 0) >= 500) flight.reject(new UpstreamStatusError(proxyRes));
      else flight.resolve(proxyRes);
    });
    proxyServer.on('error', (err, req, res, target) => {
      const flight = (req as WithFlight)[FLIGHT];
      // A late error of an earlier attempt (e.g. the extracted side before a fallback) is not this flight's.
      if (!flight || (target && target !== flight.target)) return;
      if (!flight.settled) {
        flight.settled = true;
        flight.reject(err);
      } else if ('destroy' in res) {
        // The body broke off mid-stream: the status line is gone, so cutting the connection is
        // the only honest signal left to the client.
        (res as ServerResponse).destroy();
      }
    });
    proxyServer.on('econnreset', (_err, req) => {
      const flight = (req as WithFlight)[FLIGHT];
      if (flight && !flight.settled) {
        flight.settled = true;
        flight.resolve(null);
      }
    });
  };

  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    router: (req) => (req as WithFlight)[FLIGHT]!.target as unknown as string,
    agent: options.agent,
    xfwd: true,
    // req.url has been validated as origin-form; using it verbatim skips a legacy url.parse
    // per request and guarantees the upstream sees exactly the path that was routed.
    toProxy: true,
    selfHandleResponse: true,
    ejectPlugins: true,
    plugins: [bridge],
  });

  return {
    /** Send the request to one upstream; resolves with its response headers (the body still unread). */
    attempt(req: IncomingMessage, res: ServerResponse, upstream: Upstream): Promise<Attempt> {
      return new Promise<Attempt>((resolve, reject) => {
        (req as WithFlight)[FLIGHT] = { target: upstream.target, settled: false, resolve, reject };
        void proxy(req, res, (err?: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
      });
    },
    /** Whether the last attempt failed on a kept-alive socket the upstream had closed (safe to retry). */
    failedOnReusedSocket(req: IncomingMessage, err: unknown): boolean {
      const flight = (req as WithFlight)[FLIGHT];
      return Boolean(flight?.proxyReq?.reusedSocket && !flight.response && (err as { code?: string }).code === 'ECONNRESET');
    },
  };
}

export type Forwarder = ReturnType<typeof createForwarder>;
