import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, toProblem } from '@banyan/errors';
import type { Logger } from '@banyan/telemetry';
import type { Domain, Side } from './domains';
import type { BODY } from './proxy';
import { MAX_BODY, decodeBody, type ShadowSample } from './shadow';
import { stickyCookieHeader } from './sticky';
import type { Decision } from './table';

/** RFC 9110 §7.6.1 connection-specific fields, plus the proxy ones; never forwarded either way. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/** Requests that came through node:http's server always have both; BODY once body.ts read it. */
export type Req = IncomingMessage & { url: string; method: string; [BODY]?: Buffer };

/** Where a request went and why, as the route header tells it. */
export interface Routed extends Decision {
  domain: Domain;
  /** The routing key that decided: the domain, or its route rule's `domain#rule` (ADR 0213). */
  key: string;
  /** The route rule that decided, as `domain.rule`; absent when the domain's row did. */
  rule?: string;
  override?: boolean;
  fallback?: string;
  cookie?: string;
  /** Set-Cookie marking this user's write (canary, read-your-writes). */
  writeMark?: string;
  traceId?: string;
  /** A path under no domain, sent to the monolith as it is (ADR 0215). */
  passThrough?: boolean;
}

/** The metrics' and traces' domain label of a pass-through request: no declared domain can be named so. */
export const PASS_THROUGH_LABEL = '(pass-through)';

/** problem+json without express: the public port runs on node:http directly (ADR 0207). */
export function sendProblem(res: ServerResponse, error: AppError, instance?: string, close = false): void {
  const body = JSON.stringify(toProblem(error, instance));
  res.statusCode = error.status;
  // After a framing doubt nothing more is read from this connection (ADR 0210).
  if (close) res.setHeader('connection', 'close');
  res.setHeader('content-type', 'application/problem+json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  if (typeof error.details.retryAfter === 'number') res.setHeader('retry-after', String(error.details.retryAfter));
  res.end(body);
}

export function routeHeader(r: Routed, side: Side): string {
  if (r.passThrough) return 'monolith; pass-through';
  let value = `${side}; mode=${r.mode}`;
  if (r.bucket !== undefined) value += `; bucket=${r.bucket}`;
  if (r.writer) value += '; writer';
  if (r.recentWrite) value += '; recent-write';
  if (r.override) value += '; override';
  if (r.fallback) value += `; fallback=${r.fallback}`;
  if (r.rule) value += `; rule=${r.rule}`;
  return value;
}

/**
 * The answer's way back: the upstream's status, headers (hop-by-hop ones dropped) and body, plus
 * the gateway's route header, request id and cookies; with `capture`, a copy of the body for the
 * shadow comparison.
 */
export function createResponseCopier(stickyCookie: string, logger: Logger) {
  /** Copy the upstream's response to the client, minus hop-by-hop fields, plus the route header; returns its status. */
  return function copyResponse(res: ServerResponse, upstreamRes: IncomingMessage, routed: Routed, side: Side, requestId: string, capture?: (sample: ShadowSample) => void): number {
    const raw = upstreamRes.rawHeaders;
    const out: string[] = [];
    let sawRequestId = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (HOP_BY_HOP.has(name)) continue;
      if (name === 'x-request-id') sawRequestId = true;
      out.push(raw[i], raw[i + 1]);
    }
    out.push('x-banyan-route', routeHeader(routed, side));
    if (!sawRequestId) out.push('x-request-id', requestId);
    if (routed.cookie) out.push('set-cookie', stickyCookieHeader(stickyCookie, routed.cookie));
    if (routed.writeMark) out.push('set-cookie', routed.writeMark);
    const status = upstreamRes.statusCode ?? 502;
    res.writeHead(status, out);
    if (capture) {
      const chunks: Buffer[] = [];
      let size = 0;
      upstreamRes.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      upstreamRes.on('end', () => {
        try {
          capture({
            status,
            contentType: String(upstreamRes.headers['content-type'] ?? ''),
            body: decodeBody(Buffer.concat(chunks), upstreamRes.headers['content-encoding'] as string | undefined),
            requestId,
            traceparent: (upstreamRes.headers.traceparent as string | undefined) ?? (res.req.headers.traceparent as string | undefined) ?? null,
          });
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'shadow: could not decode the primary body');
        }
      });
    }
    if (!capture && upstreamRes.complete) {
      // The usual small answer: the parser read all of it with the headers, so it sits in the
      // stream's buffer. Sent with one `end` instead of a pipe (whose setup, 'data' and 'end'
      // ticks and teardown cost more than the write itself); read() also lets the stream end,
      // which returns the upstream socket to the agent.
      res.end(upstreamRes.read() ?? undefined);
      return status;
    }
    upstreamRes.on('error', () => res.destroy());
    upstreamRes.pipe(res);
    return status;
  };
}
