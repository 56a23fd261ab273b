import type { IncomingMessage } from 'node:http';
import { AppError } from '@banyan/errors';

/**
 * The gateway takes a request's whole body before it opens the upstream request, as nginx does
 * by default (`proxy_request_buffering on`), and forwards it with an exact Content-Length
 * (ADR 0210). Whatever framing the client used, chunked, disguised or slow, the upstream then
 * sees exactly one request per client request, and a slow client holds a few KiB of the
 * gateway's memory instead of an upstream socket.
 */
export interface BodyLimits {
  /** Larger bodies are refused with 413 (the contract's 1 MiB). */
  maxBytes: number;
  /** The whole body must have arrived within this time from the end of the headers (408 after). */
  timeoutMs: number;
}

export const bodyError = {
  framing: (reason: string) => new AppError('GATEWAY.BAD_FRAMING', 400, `The request's framing is not acceptable: ${reason}.`),
  tooLarge: (max: number) => new AppError('GATEWAY.BODY_TOO_LARGE', 413, `The request body is larger than ${max} bytes.`),
  tooSlow: (ms: number) => new AppError('GATEWAY.BODY_TIMEOUT', 408, `The request body did not arrive within ${ms} ms.`),
};

/** Methods whose body has no defined meaning (RFC 9110 §9.3.1–2): a body on them is refused. */
const BODILESS = new Set(['GET', 'HEAD']);
const DIGITS = /^\d{1,16}$/;

/**
 * Outcome of reading a body: the bytes (undefined when the request has none), an error to answer
 * with (the connection is then closed: its remaining bytes cannot be trusted to frame anything),
 * or `aborted` when the client went away first (nothing to answer, nothing counted).
 */
export type BodyOutcome = { body: Buffer | undefined } | { error: AppError } | { aborted: true };

/**
 * Read the request's body within the limits, calling `done` exactly once. Node's parser has
 * already refused the classic smuggling forms (Content-Length with Transfer-Encoding, conflicting
 * lengths, a Transfer-Encoding that does not end in chunked, whitespace before a colon); what is
 * checked here is what it lets through but the gateway will not forward.
 */
export function readBody(req: IncomingMessage, limits: BodyLimits, done: (outcome: BodyOutcome) => void): void {
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  if (te !== undefined && cl !== undefined) return done({ error: bodyError.framing('both Content-Length and Transfer-Encoding') });
  if (cl !== undefined && !DIGITS.test(cl)) return done({ error: bodyError.framing('Content-Length is not a single decimal number') });
  const declared = cl === undefined ? undefined : Number(cl);
  if (te === undefined && (declared === undefined || declared === 0)) return done({ body: undefined });
  if (BODILESS.has(req.method ?? '')) return done({ error: bodyError.framing(`a ${req.method} request must not carry a body`) });
  if (declared !== undefined && declared > limits.maxBytes) return done({ error: bodyError.tooLarge(limits.maxBytes) });

  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (outcome: BodyOutcome) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('close', onClose);
    req.removeListener('error', onClose);
    if (!('body' in outcome)) req.pause();
    done(outcome);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limits.maxBytes) return finish({ error: bodyError.tooLarge(limits.maxBytes) });
    chunks.push(chunk);
  };
  const onEnd = () => finish({ body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
  // The client went away mid-body: 'error' (ECONNRESET, "aborted") and then 'close'.
  const onClose = () => finish({ aborted: true });
  const timer = setTimeout(() => finish({ error: bodyError.tooSlow(limits.timeoutMs) }), limits.timeoutMs);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onClose);
  req.on('error', onClose);
}
