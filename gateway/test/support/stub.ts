import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

export interface Stub {
  name: string;
  url: string;
  port: number;
  seen: Seen[];
  /** When the gateway's preflight asked its /readyz, kept apart from `seen`. */
  probes: number[];
  /** Replace how the stub answers (default: 200 JSON naming the stub). */
  behave(b: Behaviour | 'ok'): void;
  /** Refuse connections from now on (the port closes); `restart()` opens it again on the same port. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The default answer: who served it, and what it saw (so tests can check forwarding). */
export const echo =
  (name: string): Behaviour =>
  (req, res, body) => {
    res.setHeader('content-type', 'application/json');
    if (req.headers['x-request-id']) res.setHeader('x-request-id', String(req.headers['x-request-id']));
    res.end(JSON.stringify({ served: name, method: req.method, url: req.url, body }));
  };

/**
 * A real HTTP upstream for gateway tests: the extracted service's stand-in (or the monolith's,
 * where a test does not need real domain behaviour). It records every request it receives.
 */
export async function startStub(name: string, port = 0): Promise<Stub> {
  let behaviour: Behaviour = echo(name);
  const seen: Seen[] = [];
  const probes: number[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      // A switch's preflight probes /readyz (answered by the behaviour like any request); it is not forwarded traffic.
      if (req.url === '/readyz') probes.push(Date.now());
      else seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      behaviour(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (p: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const actual = await listen(port);
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return {
    name,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    seen,
    probes,
    behave(b) {
      behaviour = b === 'ok' ? echo(name) : b;
    },
    stop,
    restart: async () => void (await listen(actual)),
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}

/**
 * When each request reached a stub and when the stub answered it, by request body: tests that
 * must order writes across sides and instances read these instead of trusting the scheduler.
 * `answer(name, ms)` is a behaviour that echoes after `ms`.
 */
export function timeline() {
  const arrived = new Map<string, number>();
  const finished = new Map<string, number>();
  const answer =
    (name: string, ms = 0): Behaviour =>
    (req, res, body) => {
      arrived.set(body, Date.now());
      const done = () => {
        finished.set(body, Date.now());
        echo(name)(req, res, body);
      };
      if (ms > 0) setTimeout(done, ms);
      else done();
    };
  return { arrived, finished, answer };
}
