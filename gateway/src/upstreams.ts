import http from 'node:http';
import CircuitBreaker from 'opossum';
import type { GatewayConfig } from './config';
import type { Metrics } from './metrics';

/** The parsed target handed to http-proxy, so no URL is parsed per request. */
export interface ProxyTarget {
  protocol: 'http:';
  host: string;
  hostname: string;
  port: string;
}

export interface Upstream<A extends unknown[] = any[], R = any> {
  name: string;
  url: URL;
  target: ProxyTarget;
  breaker: CircuitBreaker<A, R>;
}

const BREAKER_STATE = { closed: 0, halfOpen: 1, open: 2 } as const;

/** @banyan/telemetry's UNTRACED_AGENT, from the global symbol registry (the preload owns the SDK). */
const UNTRACED_AGENT = Symbol.for('banyan.telemetry.untraced-agent');

/**
 * One keep-alive agent for every upstream (http.Agent pools per host:port). Free sockets are
 * closed after 4 s, below Node's default 5 s server keep-alive, so the gateway rarely writes to a
 * socket the upstream is closing at that moment; the rest is handled by retrying safe requests
 * that fail on a reused socket.
 */
export function createAgent(maxSockets: number): http.Agent {
  const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1_000, maxSockets, maxFreeSockets: Math.min(maxSockets, 128), timeout: 4_000, scheduling: 'lifo' });
  // The forwarded headers already carry the gateway's span (tracing.ts): @banyan/telemetry's http
  // instrumentation leaves requests through this agent alone instead of wrapping each in a client span.
  (agent as unknown as Record<symbol, boolean>)[UNTRACED_AGENT] = true;
  return agent;
}


/**
 * A breaker per upstream URL, created on first use: domains served by the same process share
 * its health. The action is given by the caller (the proxy attempt).
 */
export function createUpstreams<A extends unknown[], R>(config: GatewayConfig, metrics: Metrics, action: (...args: A) => Promise<R>) {
  const byUrl = new Map<string, Upstream<A, R>>();
  return {
    get(rawUrl: string): Upstream<A, R> {
      let upstream = byUrl.get(rawUrl);
      if (upstream) return upstream;
      const url = new URL(rawUrl);
      if (url.protocol !== 'http:') throw new Error(`upstream ${rawUrl}: only http:// upstreams are supported`);
      const name = url.host;
      const breaker = new CircuitBreaker<A, R>(action, {
        name,
        // The proxy enforces its own timeout (and maps it to 504); an opossum timeout would
        // reject while the proxied request carried on.
        timeout: false,
        errorThresholdPercentage: config.GATEWAY_BREAKER_ERROR_PERCENT,
        volumeThreshold: config.GATEWAY_BREAKER_VOLUME,
        rollingCountTimeout: config.GATEWAY_BREAKER_WINDOW_MS,
        resetTimeout: config.GATEWAY_BREAKER_RESET_MS,
        // Latency percentiles are never read here (the gateway has its own histogram); keeping
        // them stores every call's duration in the rolling window.
        rollingPercentilesEnabled: false,
        // A full socket pool is the gateway's own load, not the upstream failing (proxy.ts).
        errorFilter: (err: Error) => (err as { code?: string }).code === 'EUPSTREAMBUSY',
      });
      const gauge = metrics.breakerState.labels(name);
      gauge.set(BREAKER_STATE.closed);
      breaker.on('open', () => gauge.set(BREAKER_STATE.open));
      breaker.on('halfOpen', () => gauge.set(BREAKER_STATE.halfOpen));
      breaker.on('close', () => gauge.set(BREAKER_STATE.closed));
      upstream = { name, url, target: { protocol: 'http:', host: url.hostname, hostname: url.hostname, port: url.port || '80' }, breaker };
      byUrl.set(rawUrl, upstream);
      return upstream;
    },
    /** The upstream of a URL if traffic has created it, without creating it (for the dashboard). */
    peek: (rawUrl: string): Upstream<A, R> | undefined => byUrl.get(rawUrl),
    all: () => [...byUrl.values()],
    shutdown() {
      for (const u of byUrl.values()) u.breaker.shutdown();
    },
  };
}
