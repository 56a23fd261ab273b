import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import { Errors } from '@banyan/errors';
import type { Logger } from '@banyan/telemetry';
import type { GatewayConfig } from './config';
import type { Domain, Side } from './domains';
import type { WriteFence } from './fence';
import type { Metrics } from './metrics';
import { ROUTE_HEADER } from './override';
import { prepareForwarding } from './forward-headers';
import type { RecentWrites } from './recent-write';
import { classifyPath } from './paths';
import { readBody, type BodyLimits } from './body';
import { failureKind, gatewayError, type FailureKind } from './failures';
import { BODY, type Attempt, type Forwarder, type UpstreamStatusError } from './proxy';
import { createResponseCopier, PASS_THROUGH_LABEL, routeHeader, sendProblem, type Req, type Routed } from './respond';
import type { ShadowRecorder, ShadowSample } from './shadow';
import { createShadowFanout } from './shadow-fanout';
import { bucketOf, stickyKey } from './sticky';
import { decide, effectiveRow, type RouteTable } from './table';
import { matchRule } from './rules';
import { startHop, type Hop } from './tracing';
import type { Topology } from './topology';
import type { Upstream } from './upstreams';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const SHADOWED = new Set(['GET', 'HEAD']);
const INTERNAL_ERROR = JSON.stringify({ type: 'https://banyan.dev/errors/INTERNAL', title: 'Internal Server Error', status: 500, code: 'INTERNAL' });

export interface HandlerDeps {
  config: GatewayConfig;
  logger: Logger;
  metrics: Metrics;
  forwarder: Forwarder;
  agent: Agent;
  /** The declared domains: which prefix is whose, each one's sticky key. */
  topology: Topology;
  table: () => RouteTable;
  upstream: (domain: Domain, side: Side) => Upstream<[IncomingMessage, ServerResponse, Upstream], Attempt>;
  overrideCheck: (headers: IncomingMessage['headers']) => Promise<Side | undefined>;
  shadow: ShadowRecorder;
  fence: WriteFence;
  /** Read-your-writes in canary; absent when GATEWAY_READ_YOUR_WRITES_MS is 0. */
  recentWrites?: RecentWrites;
}

interface Capture {
  resolve(sample: ShadowSample): void;
  reject(err: Error): void;
}

export function createHandler(deps: HandlerDeps) {
  const { config, logger, metrics, forwarder, fence, recentWrites, topology } = deps;
  const retryAfter = Math.max(1, Math.ceil(config.GATEWAY_BREAKER_RESET_MS / 1000));
  const bodyLimits: BodyLimits = { maxBytes: config.GATEWAY_MAX_BODY_BYTES, timeoutMs: config.GATEWAY_BODY_TIMEOUT_MS };
  const copyResponse = createResponseCopier(config.GATEWAY_STICKY_COOKIE, logger);
  const shadowFanout = createShadowFanout(deps);
  /**
   * Connections whose framing is in doubt: their refusal is the last answer they get. Requests the
   * parser had already read behind the refused one (pipelined in the same packet) are dropped
   * unanswered, never forwarded.
   */
  const doubted = new WeakSet<object>();

  function answerFailure(req: Req, res: ServerResponse, routed: Routed, side: Side, err: unknown, kind: FailureKind, requestId: string, capture?: Capture): number {
    if (kind === 'status') return copyResponse(res, (err as UpstreamStatusError).response, routed, side, requestId, capture?.resolve);
    capture?.reject(err as Error);
    if (kind === 'connect') logger.warn({ err: (err as Error).message, side, domain: routed.domain, requestId, trace_id: routed.traceId }, 'upstream unreachable');
    const error =
      kind === 'open' ? gatewayError.open(side, retryAfter) : kind === 'timeout' ? gatewayError.timeout(side) : kind === 'busy' ? gatewayError.busy(side) : gatewayError.unreachable(side);
    res.setHeader('x-banyan-route', routeHeader(routed, side));
    res.setHeader('x-request-id', requestId);
    sendProblem(res, error, req.url);
    return error.status;
  }

  /**
   * One request's state between its callbacks. The forwarding path is written with callbacks, not
   * async/await: with the tracing preload, AsyncLocalStorage's promise hooks are on, and every
   * promise (and every await's resumption) costs a hook call; an async handler and an async retry
   * wrapper added four to each request for nothing the callbacks cannot say as clearly.
   */
  interface Flow {
    req: Req;
    res: ServerResponse;
    routed: Routed;
    side: Side;
    requestId: string;
    started: number;
    hop: Hop;
    capture?: Capture;
    /** Whether this side's attempt was already retried after a stale keep-alive socket. */
    retried: boolean;
    /** An unsafe request counted in the fence's in-flight count, until it answers. */
    writing: boolean;
  }

  /** The flow's write answered (or never will): the fence stops waiting for it. */
  function settled(flow: Flow): void {
    if (!flow.writing) return;
    flow.writing = false;
    fence.finished(flow.routed.key);
  }

  /** Send the request to the flow's side through that upstream's breaker. */
  function attempt(flow: Flow): void {
    const upstream = deps.upstream(flow.routed.domain, flow.side);
    upstream.breaker.fire(flow.req, flow.res, upstream).then(
      (response) => guarded(flow, answered, response),
      (err: unknown) => guarded(flow, failed, err),
    );
  }

  function guarded<T>(flow: Flow, step: (flow: Flow, value: T) => void, value: T): void {
    try {
      step(flow, value);
    } catch (err) {
      settled(flow);
      bug(err as Error, flow.req, flow.res);
    }
  }

  function answered(flow: Flow, response: Attempt): void {
    // Only the first side's attempt feeds a shadow comparison; a fallback's answer is not the primary's.
    const capture = flow.routed.fallback ? undefined : flow.capture;
    if (!response) {
      capture?.reject(new Error('the client went away'));
      settled(flow);
      flow.hop.end(undefined, flow.side, flow.routed.mode, flow.routed.fallback);
      return;
    }
    finish(flow, copyResponse(flow.res, response, flow.routed, flow.side, flow.requestId, capture?.resolve));
  }

  function failed(flow: Flow, err: unknown): void {
    const { req, routed } = flow;
    // A safe request that met a kept-alive socket the upstream had just closed is retried once.
    if (!flow.retried && SAFE.has(req.method) && forwarder.failedOnReusedSocket(req, err)) {
      flow.retried = true;
      return attempt(flow);
    }
    const kind = failureKind(err);
    metrics.errors.labels(routed.domain, flow.side, routed.mode, kind).inc();
    // A full pool is answered as it is: falling back would move the load, not relieve it.
    if (flow.side === 'extracted' && SAFE.has(req.method) && !routed.override && kind !== 'busy') {
      // The monolith still has the domain's code: a read it can answer beats an error page.
      if (kind === 'status') (err as UpstreamStatusError).response.resume();
      routed.fallback = kind === 'open' ? 'breaker-open' : kind;
      metrics.fallbacks.labels(routed.domain, routed.fallback).inc();
      flow.side = 'monolith';
      flow.retried = false;
      return attempt(flow);
    }
    finish(flow, answerFailure(req, flow.res, routed, flow.side, err, kind, flow.requestId, routed.fallback ? undefined : flow.capture));
  }

  function finish(flow: Flow, status: number): void {
    const { routed, side } = flow;
    settled(flow);
    metrics.answered(routed.domain, side, routed.mode, status, (performance.now() - flow.started) / 1000, routed.rule);
    flow.hop.end(status, side, routed.mode, routed.fallback);
  }

  /** A bug, not a request error: logged with its stack, answered without detail. */
  function bug(err: Error, req: IncomingMessage, res: ServerResponse): void {
    logger.error({ err, url: req.url }, 'gateway error');
    if (res.headersSent) return void res.destroy();
    res.writeHead(500, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(INTERNAL_ERROR) }).end(INTERNAL_ERROR);
  }

  function route(req: Req, res: ServerResponse, domain: Domain, started: number, forced: Side | undefined): void {
    // The route rule the request matches, if its domain declares any (ADR 0213): its key is the
    // rule's row, fence and shadow report; none, the domain's.
    const rules = topology.domain(domain).rules;
    const rule = rules.length === 0 ? undefined : matchRule(rules, req.method, req.url);
    const routingKey = rule ? rule.key : domain;
    // A switch in progress: this domain's (or rule's) writes wait until the old side has settled (ADR 0303).
    if (fence.active && !SAFE.has(req.method) && fence.hold(routingKey, () => resume(req, res, domain, started, forced))) return;
    const row = effectiveRow(deps.table(), domain, routingKey);
    const requestId = prepareForwarding(req);
    const hop = startHop(req.headers, req.method, domain, req.url);

    let routed: Routed;
    if (forced) {
      routed = { domain, key: routingKey, side: forced, mode: row.mode, override: true };
    } else {
      let cookie: string | undefined;
      let key = '';
      const unsafe = !SAFE.has(req.method);
      const canaryReads = row.mode === 'canary' && recentWrites && !unsafe;
      const decision = decide(
        row,
        () => {
          const sticky = stickyKey(req.headers, config.GATEWAY_STICKY_COOKIE, topology.domain(domain).stickyKey);
          cookie = sticky.newCookie;
          key = sticky.key;
          return bucketOf(key);
        },
        unsafe,
        canaryReads ? () => recentWrites.recent(req.headers.cookie, domain, key) : undefined,
      );
      routed = { domain, key: routingKey, ...decision, cookie };
      // Canary: a write marks its user, whose next reads `decide` then keeps with the writer (ADR 0304).
      if (decision.writer && recentWrites) routed.writeMark = recentWrites.mark(domain, key);
    }
    routed.traceId = hop.traceId;
    if (rule) routed.rule = rule.label;

    let capture: Capture | undefined;
    if (routed.shadowTo && SHADOWED.has(req.method)) {
      const candidate = shadowFanout.start(req, routed, requestId);
      if (candidate) {
        const primarySample = new Promise<ShadowSample>((resolve, reject) => (capture = { resolve, reject }));
        shadowFanout.finish(req, routed, primarySample, candidate);
      }
    }
    const writing = !SAFE.has(req.method);
    if (writing) fence.started(routingKey);
    attempt({ req, res, routed, side: routed.side, requestId, started, hop, capture, retried: false, writing });
  }

  /** A held write, released: routed by the table as it is now; a client that left meanwhile is not. */
  function resume(req: Req, res: ServerResponse, domain: Domain, started: number, forced: Side | undefined): void {
    // Not req.destroyed: a request whose body was read whole is destroyed once it ended.
    if (res.destroyed || req.socket.destroyed) return;
    try {
      route(req, res, domain, started, forced);
    } catch (err) {
      bug(err as Error, req, res);
    }
  }

  /**
   * A path under no domain (ADR 0215): to the monolith as it is, through its breaker and with the
   * same forwarding, headers and metrics as any request, but no routing row, fence, stickiness,
   * shadow or tester override: nothing about it can move.
   */
  function passThrough(req: Req, res: ServerResponse, started: number): void {
    const requestId = prepareForwarding(req);
    const hop = startHop(req.headers, req.method, PASS_THROUGH_LABEL, req.url);
    const routed: Routed = { domain: PASS_THROUGH_LABEL, key: PASS_THROUGH_LABEL, side: 'monolith', mode: 'monolith', passThrough: true, traceId: hop.traceId };
    attempt({ req, res, routed, side: 'monolith', requestId, started, hop, retried: false, writing: false });
  }

  /** Route a request whose body has arrived, after the tester-override check when it asks for one. */
  function dispatch(req: Req, res: ServerResponse, domain: Domain | null, started: number): void {
    try {
      if (domain === null) return passThrough(req, res, started);
      if (req.headers[ROUTE_HEADER] === undefined) return route(req, res, domain, started, undefined);
      deps.overrideCheck(req.headers).then(
        (forced) => {
          try {
            route(req, res, domain, started, forced);
          } catch (err) {
            bug(err as Error, req, res);
          }
        },
        (err: Error) => bug(err, req, res),
      );
    } catch (err) {
      bug(err as Error, req, res);
    }
  }

  return function handle(incoming: IncomingMessage, res: ServerResponse): void {
    const req = incoming as Req;
    if (doubted.has(req.socket)) return void res.destroy();
    try {
      const started = performance.now();
      const verdict = classifyPath(req.url, topology);
      if (!verdict.ok) {
        metrics.rejected.labels(String(verdict.status)).inc();
        logger.warn({ method: req.method, url: req.url.slice(0, 512), reason: verdict.reason, remote: req.socket.remoteAddress }, 'request refused before routing');
        sendProblem(res, verdict.status === 400 ? gatewayError.badPath(verdict.reason) : Errors.routeNotFound(req.method, req.url.split('?')[0].slice(0, 512)));
        return;
      }
      // One request in, one request out: the body is taken whole before anything is sent upstream.
      readBody(req, bodyLimits, (outcome) => {
        if ('aborted' in outcome) return;
        if ('error' in outcome) {
          metrics.rejected.labels(String(outcome.error.status)).inc();
          logger.warn({ method: req.method, url: req.url.slice(0, 512), code: outcome.error.code, remote: req.socket.remoteAddress }, 'request body refused');
          doubted.add(req.socket);
          sendProblem(res, outcome.error, undefined, true);
          return;
        }
        if (outcome.body) req[BODY] = outcome.body;
        dispatch(req, res, verdict.domain, started);
      });
    } catch (err) {
      bug(err as Error, req, res);
    }
  };
}
