import { randomUUID } from 'node:crypto';
import { ROUTE_HEADER, TOKEN_HEADER } from './override';
import { BODY } from './proxy';
import { HOP_BY_HOP, type Req } from './respond';

/** No Content-Length is sent for these when they carry no body (body.ts refuses one on them). */
const BODILESS = new Set(['GET', 'HEAD']);
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Strip what must not reach an upstream, frame the body; returns the request id the request travels with. */
export function prepareForwarding(req: Req): string {
  const h = req.headers;
  const connection = h.connection;
  if (connection) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && name !== 'close' && name !== 'keep-alive') delete h[name];
    }
  }
  for (const name of HOP_BY_HOP) if (h[name] !== undefined) delete h[name];
  // The body is already here (body.ts): the upstream gets it whole behind an exact length, and
  // no 100-continue exchange (which would also skip httpxy's proxyReq event).
  delete h.expect;
  const body = req[BODY];
  if (body) h['content-length'] = String(body.length);
  else if (BODILESS.has(req.method)) delete h['content-length'];
  else h['content-length'] = '0';
  // The client's address appended, as nginx's $proxy_add_x_forwarded_for does; the other
  // X-Forwarded-* fields are the gateway's to state (httpxy's xfwd sets them when absent).
  const peer = req.socket.remoteAddress;
  if (peer) h['x-forwarded-for'] = h['x-forwarded-for'] ? `${h['x-forwarded-for']}, ${peer}` : peer;
  delete h['x-forwarded-host'];
  delete h['x-forwarded-proto'];
  delete h['x-forwarded-port'];
  delete h[ROUTE_HEADER];
  delete h[TOKEN_HEADER];
  const incoming = h['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  h['x-request-id'] = id;
  return id;
}
