import net from 'node:net';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { startMailCatcherIfFree } from '../src/dev/mail-catcher';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

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
