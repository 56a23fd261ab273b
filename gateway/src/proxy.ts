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
/**
 * Every socket to the upstream stayed busy for the whole wait: the gateway's own pool is full.
 * Not the upstream's failure (it may be answering slowly but well), so the breaker ignores it.
 */
export class UpstreamBusyError extends Error {
  readonly code = 'EUPSTREAMBUSY';
  constructor(ms: number) {
    super(`no connection to the upstream became free within ${ms} ms`);
  }
}

/** The outcome of one attempt: the upstream's response, or null when the client went away first. */
export type Attempt = IncomingMessage | null;

interface Flight {
  target: ProxyTarget;
  settled: boolean;
  /** The socket wait ran out: when the agent hands this request a socket later, it is dropped unsent. */
  abandoned: boolean;
  waiting?: NodeJS.Timeout;
  proxyReq?: ClientRequest;
  response?: IncomingMessage;
  resolve(value: Attempt): void;
  reject(err: Error): void;
}

const FLIGHT = Symbol('banyan.flight');
/** The request's body, taken whole by the handler before routing (body.ts, ADR 0210). */
export const BODY = Symbol('banyan.body');
type Carrying = IncomingMessage & { [FLIGHT]?: Flight; [BODY]?: Buffer };

/**
 * One http-proxy-middleware instance for every route. The routing decision is made before the
 * proxy runs and stored on the request; `router` only reads it. The proxy's own plugins (error
 * page, logger) are ejected: they allocate per request and answer errors in their own format,
 * while the gateway answers with problem+json and needs each attempt's outcome as a promise
 * (for the breaker and the fallback).
 */
export function createForwarder(options: { agent: Agent; timeoutMs: number; socketWaitMs: number }) {
  const bridge: Plugin = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq, req) => {
      const flight = (req as Carrying)[FLIGHT];
      if (!flight) return;
      if (flight.abandoned) {
        // Answered 503 while this waited for a socket: it must not reach the upstream now. The
        // socket is fresh from the agent and nothing has been written on it yet.
        proxyReq.destroy();
        return;
      }
      clearTimeout(flight.waiting);
      flight.proxyReq = proxyReq;
      proxyReq.setTimeout(options.timeoutMs, () => proxyReq.destroy(new UpstreamTimeoutError(options.timeoutMs)));
      // The body, taken whole by the handler (ADR 0210), goes out here behind the Content-Length it
      // set; httpxy then pipes the already-ended request stream, which only ends proxyReq. (A
      // Readable for httpxy's `buffer` option cost a stream and a pipe per request, measured at
      // about 100 µs of CPU per POST.)
      const body = (req as Carrying)[BODY];
      if (body) proxyReq.write(body);
    });
    proxyServer.on('proxyRes', (proxyRes, req) => {
      const flight = (req as Carrying)[FLIGHT];
      if (!flight || flight.settled) return void proxyRes.resume();
      flight.settled = true;
      flight.response = proxyRes;
      if (!flight.proxyReq?.writableFinished) {
        // An answer before the whole request was written: the two ends may disagree on where this
        // request ends, so the socket is not offered to another request (ADR 0210).
        proxyRes.once('end', () => flight.proxyReq?.destroy());
      }
      if ((proxyRes.statusCode ?? 0) >= 500) flight.reject(new UpstreamStatusError(proxyRes));
      else flight.resolve(proxyRes);
    });
    proxyServer.on('error', (err, req, res, target) => {
      const flight = (req as Carrying)[FLIGHT];
      // A late error of an earlier attempt (e.g. the extracted side before a fallback) is not this flight's.
      if (!flight || flight.abandoned || (target && target !== flight.target && !sameTarget(target, flight.target))) return;
      if (!flight.settled) {
        flight.settled = true;
        clearTimeout(flight.waiting);
        flight.reject(err);
      } else if (res && 'destroy' in res) {
        // The body broke off mid-stream: the status line is gone, so cutting the connection is
        // the only honest signal left to the client.
        (res as ServerResponse).destroy();
      }
    });
    proxyServer.on('econnreset', (_err, req) => {
      const flight = (req as Carrying)[FLIGHT];
      if (flight && !flight.settled) {
        flight.settled = true;
        clearTimeout(flight.waiting);
        flight.resolve(null);
      }
    });
  };

  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    router: (req) => (req as Carrying)[FLIGHT]!.target as unknown as string,
    agent: options.agent,
    xfwd: true,
    selfHandleResponse: true,
    ejectPlugins: true,
    plugins: [bridge],
  });

  return {
    /** Send the request to one upstream; resolves with its response headers (the body still unread). */
    attempt(req: IncomingMessage, res: ServerResponse, upstream: Upstream): Promise<Attempt> {
      return new Promise<Attempt>((resolve, reject) => {
        const flight: Flight = { target: upstream.target, settled: false, abandoned: false, resolve, reject };
        // A bounded wait for a socket: past it the client gets 503 instead of queueing behind
        // every other request in the agent without limit.
        flight.waiting = setTimeout(() => {
          if (flight.settled || flight.proxyReq) return;
          flight.settled = true;
          flight.abandoned = true;
          reject(new UpstreamBusyError(options.socketWaitMs));
        }, options.socketWaitMs);
        (req as Carrying)[FLIGHT] = flight;
        void proxy(req, res, (err?: unknown) => {
          if (flight.settled) return;
          flight.settled = true;
          clearTimeout(flight.waiting);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      });
    },
    /** Whether the last attempt failed on a kept-alive socket the upstream had closed (safe to retry). */
    failedOnReusedSocket(req: IncomingMessage, err: unknown): boolean {
      const flight = (req as Carrying)[FLIGHT];
      return Boolean(flight?.proxyReq?.reusedSocket && !flight.response && (err as { code?: string }).code === 'ECONNRESET');
    },
  };
}

/** httpxy hands errors the target it was given, or a URL made from it. */
function sameTarget(a: unknown, b: ProxyTarget): boolean {
  if (a instanceof URL) return a.hostname === b.hostname && (a.port || '80') === b.port;
  return false;
}

export type Forwarder = ReturnType<typeof createForwarder>;
