import { startGateway, type GatewayHarness } from './support/gateway';
import { exchange } from './support/socket';
import { startStub, type Stub } from './support/stub';

/**
 * Request smuggling through the gateway, as a hostile client would try it on a raw socket
 * (ADR 0210). Each case hides a second request, `POST /api/users`, where a proxy that forwards
 * body bytes as they came could make the upstream read it as a request of its own; then 100
 * ordinary requests follow on the gateway's kept-alive upstream sockets, and each must get its
 * own answer.
 */
const SMUGGLED = 'POST /api/users HTTP/1.1\r\nHost: upstream\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
const chunk = (data: string) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n0\r\n\r\n`;

interface Case {
  name: string;
  bytes: (host: string) => string;
  /** 400 when the gateway must refuse it; 200 when it may re-frame it (body whole, exact length). */
  expect: 400 | 200;
}

const cases: Case[] = [
  { name: 'Content-Length before Transfer-Encoding (CL.TE)', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'Transfer-Encoding before Content-Length (TE.CL)', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'two different Content-Lengths', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}` },
  { name: 'two equal Content-Lengths', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}${SMUGGLED}` },
  { name: 'Transfer-Encoding "chunked, identity"', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked, identity\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'Transfer-Encoding "identity, chunked" with a Content-Length', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 3\r\nTransfer-Encoding: identity, chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'a space before the colon', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding : chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'a tab before the colon', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding\t: chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'Transfer-Encoding folded onto a continuation line', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nX-Pad: 1\r\n Transfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'Transfer-Encoding " chunked" (leading whitespace), re-framed', expect: 200, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding:   chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'Transfer-Encoding "CHUNKED" (upper case), re-framed', expect: 200, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: CHUNKED\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'a chunked body on GET (the reported attack)', expect: 400, bytes: (h) => `GET /api/users/.well-known/jwks.json HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'a chunked body on HEAD', expect: 400, bytes: (h) => `HEAD /api/users/.well-known/jwks.json HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'a Content-Length body on GET', expect: 400, bytes: (h) => `GET /api/users/.well-known/jwks.json HTTP/1.1\r\nHost: ${h}\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}` },
  { name: 'a chunked body on OPTIONS, re-framed', expect: 200, bytes: (h) => `OPTIONS /api/users/.well-known/jwks.json HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'a chunked body on DELETE, re-framed', expect: 200, bytes: (h) => `DELETE /api/products/p1 HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}` },
  { name: 'a chunk size with trailing garbage', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n2;x\x00\r\n{}\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'a bare LF line ending in the headers', expect: 400, bytes: (h) => `POST /api/products HTTP/1.1\r\nHost: ${h}\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}` },
];

describe('The front door: one request in, one request out (ADR 0210)', () => {
  let monolith: Stub;
  let gw: GatewayHarness;
  let host: string;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    gw = await startGateway({ label: 'gw_framing', monolith: monolith.url });
    host = new URL(gw.url).host;
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
  });

  const smuggledArrived = () => monolith.seen.filter((s) => s.method === 'POST' && s.url === '/api/users').length;

  /** 100 ordinary requests, 20 at a time on the gateway's kept-alive upstream sockets: each must get its own answer. */
  async function burst(tag: string) {
    const wrong: string[] = [];
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const path = `/api/products/${tag}-${round}-${i}`;
          const res = await fetch(gw.url + path);
          const body = (await res.json()) as { url?: string; method?: string };
          if (res.status !== 200 || body.url !== path || body.method !== 'GET') wrong.push(`${path} → ${res.status} ${JSON.stringify(body)}`);
        }),
      );
    }
    return wrong;
  }

  test.each(cases)('When a client sends $name, then nothing is smuggled upstream and 100 requests behind it get their own answers', async ({ name, bytes, expect: expected }) => {
    const before = monolith.seen.length;

    const reply = await exchange(gw.url, bytes(host) + `GET /api/products/after HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

    // The client gets one answer for its request: a refusal (and the connection closed, its
    // remaining bytes unread) or the re-framed request's own answer.
    expect(reply.statuses[0]).toBe(expected);
    if (expected === 400) {
      expect(reply.statuses).toHaveLength(1);
      expect(reply.closed).toBe(true);
      expect(reply.text).toMatch(/application\/problem\+json/);
      // A HEAD answer carries no body (RFC 9110 §9.3.2), so only the others show the code.
      if (!name.includes('HEAD')) expect(reply.text).toMatch(/"code":"GATEWAY\.BAD_FRAMING"/);
      expect(monolith.seen.length).toBe(before);
    } else {
      // Re-framed: the upstream saw exactly this one request, its chunked body now behind an
      // exact Content-Length, with the smuggled text as inert body bytes.
      const arrived = monolith.seen.slice(before).filter((s) => !s.url.startsWith('/api/products/after'));
      expect(arrived).toHaveLength(1);
      expect(arrived[0].headers['content-length']).toBe(String(SMUGGLED.length));
      expect(arrived[0].headers['transfer-encoding']).toBeUndefined();
      expect(arrived[0].body).toBe(SMUGGLED);
    }
    expect(smuggledArrived()).toBe(0);

    expect(await burst(name.replace(/\W+/g, '_').slice(0, 40))).toEqual([]);
    expect(smuggledArrived()).toBe(0);
  });

  test('When a client says Expect: 100-continue, then the upstream gets the body behind its length and no Expect', async () => {
    const before = monolith.seen.length;
    const reply = await exchange(gw.url, `POST /api/products HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    expect(reply.statuses.filter((s) => s !== 100)).toEqual([200]);
    const arrived = monolith.seen.slice(before);
    expect(arrived).toHaveLength(1);
    expect(arrived[0]).toMatchObject({ method: 'POST', body: '{}' });
    expect(arrived[0].headers.expect).toBeUndefined();
  });

  test('When a client claims an X-Forwarded-For, then its real address is appended, not replaced', async () => {
    const before = monolith.seen.length;
    await fetch(`${gw.url}/api/products/xff`, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'evil.example' } });
    const seen = monolith.seen[before];
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe(host);
  });
});
