import { randomBytes } from 'node:crypto';
import type { Agent, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '@banyan/telemetry';
import type { GatewayConfig } from './config';
import type { Domain, Side } from './domains';
import type { Attempt } from './proxy';
import type { Req, Routed } from './respond';
import { fetchSample, type ShadowRecorder, type ShadowSample } from './shadow';
import type { Upstream } from './upstreams';

const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/;

export interface ShadowFanoutDeps {
  config: GatewayConfig;
  logger: Logger;
  agent: Agent;
  shadow: ShadowRecorder;
  upstream: (domain: Domain, side: Side) => Upstream<[IncomingMessage, ServerResponse, Upstream], Attempt>;
}

/**
 * Shadow mode's second request (ADR 0202): a read sent to the other side as well, within a cap on
 * how many are in flight, and the two answers handed to the recorder when both are in.
 */
export function createShadowFanout(deps: ShadowFanoutDeps) {
  const { config, logger } = deps;
  let shadowInFlight = 0;

  /** Send a copy of a shadowed read to the other side; undefined when its breaker is open or too many are in flight. */
  function start(req: Req, routed: Routed, requestId: string): Promise<ShadowSample> | undefined {
    const to = routed.shadowTo!;
    const upstream = deps.upstream(routed.domain, to);
    if (upstream.breaker.opened || shadowInFlight >= config.GATEWAY_SHADOW_CONCURRENCY) {
      deps.shadow.skipped(routed.key);
      return undefined;
    }
    shadowInFlight++;
    const headers: OutgoingHttpHeaders = { ...req.headers, 'x-request-id': `${requestId}-shadow`, 'x-banyan-shadow': '1', 'accept-encoding': 'identity' };
    const parent = TRACEPARENT.exec(String(req.headers.traceparent ?? ''));
    if (parent) headers.traceparent = `00-${parent[1]}-${randomBytes(8).toString('hex')}-${parent[2]}`;
    const p = fetchSample(upstream.url, { method: req.method, path: req.url, headers, agent: deps.agent, timeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS });
    p.then(
      () => shadowInFlight--,
      () => shadowInFlight--,
    );
    return p;
  }

  /** Compare the primary's answer with the candidate's once both (and the noise probe) are in. */
  function finish(req: Req, routed: Routed, primary: Promise<ShadowSample>, candidate: Promise<ShadowSample>): void {
    const primarySide = routed.side;
    const noise = deps.shadow.noise
      ? primary.then(() =>
          fetchSample(deps.upstream(routed.domain, primarySide).url, {
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'x-request-id': `${req.headers['x-request-id']}-noise`, 'x-banyan-shadow': '1', 'accept-encoding': 'identity' },
            agent: deps.agent,
            timeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
          }),
        )
      : Promise.resolve(undefined);
    Promise.all([primary, candidate, noise]).then(
      ([p, c, again]) => deps.shadow.record(routed.key, { method: req.method, path: req.url }, { side: primarySide, sample: p }, { side: routed.shadowTo!, sample: c }, again),
      (err: Error) => {
        deps.shadow.error(routed.key);
        logger.debug({ err: err.message, domain: routed.domain }, 'shadow comparison failed');
      },
    );
  }

  return { start, finish };
}
