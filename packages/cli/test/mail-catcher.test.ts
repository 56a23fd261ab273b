import net from 'node:net';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { MAX_MAIL_BYTES, MAX_STORED_MAIL_BYTES, startMailCatcherIfFree } from '../src/dev/mail-catcher';
import { freePort } from '@banyan/testing';


describe('npm start mail catcher', () => {
  test('When nothing listens on the SMTP port, then mail sent there is caught, logged and listed as JSON', async () => {
    const [smtpPort, webPort] = [await freePort(), await freePort()];
    const lines: string[] = [];
    const catcher = await startMailCatcherIfFree({ host: '127.0.0.1', smtpPort, webPort, log: (l) => lines.push(l) });
    try {
      expect(catcher).toBeDefined();
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
      await transport.sendMail({ from: 'shop@banyan.local', to: 'ada@example.com', subject: 'Order confirmed: #1234', text: 'Thanks' });

      const listed = (await (await fetch(catcher!.url)).json()) as { items: unknown[] };

      expect(listed.items).toEqual([expect.objectContaining({ to: ['ada@example.com'], subject: 'Order confirmed: #1234', text: 'Thanks\n' })]);
      expect(lines).toEqual(['to ada@example.com: Order confirmed: #1234']);
    } finally {
      await catcher?.close();
    }
  });

  test('When an SMTP server (Mailpit) already listens, then no catcher starts', async () => {
    const busy = net.createServer((s) => {
      s.on('error', () => undefined); // the probe hangs up at once
      s.end('220 busy\r\n');
    });
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const catcher = await startMailCatcherIfFree({ host: '127.0.0.1', smtpPort: (busy.address() as AddressInfo).port, webPort: await freePort(), log: () => undefined });
      expect(catcher).toBeUndefined();
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });
});

/** One request exactly as written (no client tidies the path or the Host). */
function raw(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(request));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
  });
}

/** A conversation with the SMTP port, line by line, returning every reply the server sent. */
function smtpTalk(port: number, lines: string[], options: { resetAfter?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let replies = '';
    socket.on('data', (c: Buffer) => (replies += c.toString('latin1')));
    socket.on('error', () => resolve(replies));
    socket.on('close', () => resolve(replies));
    socket.once('data', async () => {
      for (const line of lines) {
        socket.write(`${line}\r\n`);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (options.resetAfter) socket.resetAndDestroy();
      else socket.end();
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.once('timeout', () => reject(new Error('SMTP conversation timed out')));
  });
}

describe('npm start mail catcher, fed what no mailer sends', () => {
  let smtpPort: number;
  let webPort: number;
  let catcher: Awaited<ReturnType<typeof startMailCatcherIfFree>>;
  let logged: string[];
  beforeEach(async () => {
    logged = [];
    [smtpPort, webPort] = [await freePort(), await freePort()];
    catcher = await startMailCatcherIfFree({ host: '127.0.0.1', smtpPort, webPort, log: (l) => logged.push(l) });
  });
  afterEach(() => catcher?.close());
  const list = async () => ((await (await fetch(catcher!.url)).json()) as { items: Array<{ subject: string; text: string; to: string[] }> }).items;
  const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });

  test('When the list is asked for with a bad target, another method, or a foreign Host, then it answers 4xx (421 for the Host) and keeps serving', async () => {
    const request = (line: string, host = '127.0.0.1') => raw(webPort, `${line}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

    expect(await request('GET // HTTP/1.1')).toBe(404);
    expect(await request('GET /% HTTP/1.1')).toBe(404);
    expect(await request('GET http://127.0.0.1/ HTTP/1.1')).toBe(400);
    expect(await request('POST / HTTP/1.1')).toBe(405);
    expect(await request('GET / HTTP/1.1', 'mails.evil.example')).toBe(421);
    expect(await request('GET / HTTP/1.1', 'mails.evil.example:8025')).toBe(421);
    expect(await request('GET / HTTP/1.1', 'localhost:8025')).toBe(200);
    expect(await request('GET / HTTP/1.1', '[::1]')).toBe(200);
    expect(await request('GET /?x=%zz HTTP/1.1')).toBe(200);
  });

  test('When SMTP clients send garbage, an HTTP request, or hang up in the middle of a message, then the catcher survives and still catches the next mail', async () => {
    await smtpTalk(smtpPort, ['POST / HTTP/1.1', 'Host: 127.0.0.1:1025', '', 'garbage \u0000\u00ff', 'QUIT']);
    await smtpTalk(smtpPort, ['EHLO x', 'MAIL FROM:<a@b.c>', 'RCPT TO:<d@e.f>', 'DATA', 'Subject: half', '', 'and then'], { resetAfter: true });
    await smtpTalk(smtpPort, ['EHLO x', 'MAIL FROM:<a@b.c>', 'RCPT TO:<d@e.f>', 'DATA', `Subject: ${'\u0000'.repeat(10)}`, 'Content-Type: multipart/mixed; boundary=', '', '--', '.', 'QUIT']);

    await transport().sendMail({ from: 'shop@banyan.local', to: 'ada@example.com', subject: 'after the garbage', text: 'still here' });

    expect((await list()).map((m) => m.subject)).toContain('after the garbage');
    // The hang-up mid-message reached smtp-server as an 'error' event: heard and logged, not thrown.
    expect(logged).toContain('SMTP connection error: read ECONNRESET');
  });

  test('When a message is over 1 MiB, then it is refused with 552; when its subject or text is oversized, then it is kept cut; over 100 recipients are refused with 452', async () => {
    const tooBig = transport().sendMail({ from: 'shop@banyan.local', to: 'ada@example.com', subject: 'huge', text: 'x'.repeat(MAX_MAIL_BYTES + 1) });
    await expect(tooBig).rejects.toMatchObject({ responseCode: 552 });

    await transport().sendMail({ from: 'shop@banyan.local', to: 'ada@example.com', subject: 's'.repeat(5_000), text: 't'.repeat(200_000) });
    const [kept] = await list();
    expect(Buffer.byteLength(kept.subject)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(kept.text)).toBeLessThanOrEqual(64 * 1024);
    expect(kept.text.endsWith('…')).toBe(true);

    const many = Array.from({ length: 101 }, (_, i) => `r${i}@example.com`);
    const sent = await transport().sendMail({ from: 'shop@banyan.local', to: many, subject: 'many', text: 'hi' });
    expect(sent.rejected).toEqual(['r100@example.com']);
    expect((await list())[0].to).toHaveLength(100);
  });

  test('When more mail arrives than the byte bound holds, then the oldest go first and the list stays under it', async () => {
    // 100 recipients of 250 bytes and 64 KiB of text: about 180 KB a mail as counted, so 8 MiB
    // holds about 45 of the 60 sent, fewer than the count bound of 100.
    const to = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${'r'.repeat(60)}@${'d'.repeat(170)}.example`);
    const pool = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
    for (let i = 0; i < 60; i++) await pool.sendMail({ from: 'shop@banyan.local', to, subject: `mail ${i}`, text: 'x'.repeat(70_000) });
    pool.close();

    const items = await list();
    expect(items.length).toBeLessThan(60);
    expect(items[0].subject).toBe('mail 59');
    expect(items.at(-1)!.subject).toBe(`mail ${60 - items.length}`);
    const counted = items.reduce((n, m) => n + 200 + 2 * (m.subject.length + m.text.length + 'shop@banyan.local'.length + m.to.join('').length), 0);
    expect(counted).toBeLessThanOrEqual(MAX_STORED_MAIL_BYTES);
  }, 60_000);
});
