import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** node:http with the path sent verbatim (fetch would normalise it) and any header allowed. */
export function request(base: string, options: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string }): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Bytes on a socket, for request targets no HTTP client would send. Returns the status line's code. */
export function rawStatus(base: string, requestLine: string): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.end(`${requestLine}\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('end', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`no status line in ${JSON.stringify(data.slice(0, 80))}`));
    });
    socket.on('error', reject);
  });
}
