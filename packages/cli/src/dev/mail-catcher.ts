import http from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { tcpReachable } from './preflight';

export interface CaughtMail {
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface MailCatcher {
  smtp: string;
  url: string;
  close(): Promise<void>;
}

/**
 * A development mail catcher for `npm start` on a machine without Mailpit: a real SMTP server
 * on SMTP_PORT that keeps the last 100 mails, prints one line per mail, and lists them as JSON
 * at http://127.0.0.1:<webPort>/ (Mailpit's UI port by default). It starts only when nothing
 * listens on the SMTP port already, so a real Mailpit (docker compose) always wins.
 */
export async function startMailCatcherIfFree(options: { host: string; smtpPort: number; webPort: number; log: (line: string) => void }): Promise<MailCatcher | undefined> {
  if (await tcpReachable(options.host, options.smtpPort, 500)) return undefined;
  const mails: CaughtMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const mail: CaughtMail = {
            receivedAt: new Date().toISOString(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          };
          mails.unshift(mail);
          mails.splice(100);
          options.log(`to ${mail.to.join(', ')}: ${mail.subject}`);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(options.smtpPort, options.host, () => resolve());
  });
  const web = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ items: mails }, null, 2));
  });
  await new Promise<void>((resolve, reject) => {
    web.once('error', reject);
    web.listen(options.webPort, '127.0.0.1', () => resolve());
  });
  return {
    smtp: `${options.host}:${options.smtpPort}`,
    url: `http://127.0.0.1:${options.webPort}/`,
    close: async () => {
      await new Promise<void>((r) => smtp.close(() => r()));
      await new Promise<void>((r) => web.close(() => r()));
    },
  };
}
