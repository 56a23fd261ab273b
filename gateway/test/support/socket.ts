import net from 'node:net';

export interface Exchange {
  /** Everything the gateway sent back before it closed the connection (or `waitMs` passed). */
  text: string;
  /** The status code of every response on the connection, in order. */
  statuses: number[];
  /** Whether the gateway closed the connection (rather than the wait running out). */
  closed: boolean;
  ms: number;
}

/**
 * Write raw bytes to a fresh connection and read what comes back until the gateway closes it or
 * `waitMs` passes: the only way to send the framings no HTTP client would.
 */
export function exchange(base: string, bytes: string | Buffer, waitMs = 3_000): Promise<Exchange> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let text = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ text, statuses, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c) => (text += c.toString('latin1')));
    socket.on('end', () => {
      closed = true;
      done();
    });
    socket.on('close', () => {
      closed = true;
      done();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The gateway may reset a connection whose remaining bytes it refused to read.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        closed = true;
        return done();
      }
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** A connection that sends `head` and then one byte of `rest` every `everyMs`, until closed by either side. */
export function dribble(base: string, head: string, rest: string, everyMs: number) {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  let i = 0;
  const started = Date.now();
  const closed = new Promise<{ text: string; ms: number }>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text, ms: Date.now() - started });
    });
  });
  socket.on('error', () => undefined);
  socket.on('data', (c) => (text += c.toString('latin1')));
  socket.on('connect', () => {
    socket.write(head);
    timer = setInterval(() => {
      if (i < rest.length && socket.writable) socket.write(rest[i++]);
    }, everyMs);
  });
  return {
    socket,
    closed,
    /** Resolves once the connection is established. */
    ready: new Promise<void>((resolve) => socket.once('connect', () => resolve())),
    close() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
