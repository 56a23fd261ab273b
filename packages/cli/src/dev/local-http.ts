import type http from 'node:http';

/**
 * What the development catchers (mail, traces) share so that no request can take the supervisor
 * down with them: they run inside `banyan start`, so an exception escaping a handler ends every
 * process of the system. Each handler is wrapped by `localOnly`, which answers foreign hosts,
 * catches what the handler throws and never lets a request or response error go unheard.
 */

/**
 * The Host names a catcher answers: loopback only, any port. A web page that rebinds its own name
 * to 127.0.0.1 (DNS rebinding) reaches the port, but its requests still carry its own name in
 * Host, so refusing every other name keeps caught mails and traces out of its reach.
 */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

export const isLoopbackHost = (host: string | undefined): boolean => host !== undefined && LOOPBACK_HOST.test(host);

/** The request target split without throwing: `undefined` for anything but origin-form (`/…`). */
export function requestTarget(req: http.IncomingMessage): { path: string; query: URLSearchParams } | undefined {
  const raw = req.url ?? '';
  // Absolute-form (`GET http://…`) and `*` are for proxies and OPTIONS; a catcher is neither.
  if (!raw.startsWith('/')) return undefined;
  const q = raw.indexOf('?');
  // URLSearchParams never throws: a bad escape such as `%` stays as it is.
  return q < 0 ? { path: raw, query: new URLSearchParams() } : { path: raw.slice(0, q), query: new URLSearchParams(raw.slice(q + 1)) };
}

export function sendText(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // nosniff: bodies may echo what a request sent (a trace id); never let a browser run it.
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers }).end(`${body}\n`);
}

/**
 * A request listener that refuses foreign Host headers with 421, and turns anything the handler
 * throws (or rejects with) into a 500 and one log line instead of an uncaught exception.
 */
export function localOnly(name: string, log: (line: string) => void, handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown): http.RequestListener {
  return (req, res) => {
    // A client that goes away mid-body or mid-answer is not the catcher's failure.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    if (!isLoopbackHost(req.headers.host)) {
      req.resume();
      return sendText(res, 421, `The ${name} answers only Host 127.0.0.1, localhost or [::1].`, { connection: 'close' });
    }
    const failed = (err: unknown) => {
      log(`${req.method} ${JSON.stringify(req.url).slice(0, 200)} failed: ${err instanceof Error ? err.message : String(err)}`);
      req.resume();
      sendText(res, 500, `The ${name} could not answer this request.`);
    };
    try {
      const pending = handler(req, res);
      if (pending instanceof Promise) pending.catch(failed);
    } catch (err) {
      failed(err);
    }
  };
}

export type Body = { ok: true; bytes: Buffer } | { ok: false; status: 413; received: number };

/**
 * A request body, kept only up to `maxBytes`: past it the rest is read and dropped (so the client
 * can still read the 413) and nothing more is held. The server's requestTimeout bounds how long
 * a client may keep sending.
 */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxBytes) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once('end', () => resolve(received > maxBytes ? { ok: false, status: 413, received } : { ok: true, bytes: Buffer.concat(chunks) }));
    req.once('error', reject);
  });
}

/**
 * `s` cut to at most `maxBytes` of UTF-8, ending with `…` when cut, never splitting a character.
 * Only the first `maxBytes` characters are encoded: a string of any length costs the same.
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length <= maxBytes / 3 || Buffer.byteLength(s) <= maxBytes) return s;
  const head = Buffer.from(s.slice(0, maxBytes)).subarray(0, maxBytes - 3).toString('utf8');
  // A multi-byte character cut in two decodes as U+FFFD: drop it.
  return `${head.replace(/\uFFFD$/, '')}…`;
}

/** Settings both catchers' servers share: slow clients are cut off, never held forever. */
export function boundTimeouts(server: http.Server): void {
  // A whole request (headers and body) within 30 s; exporters send a batch in milliseconds.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  // Idle keep-alive connections closed after 5 s (Node's default), so close() never waits long.
  server.keepAliveTimeout = 5_000;
}
