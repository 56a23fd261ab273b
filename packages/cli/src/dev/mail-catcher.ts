import http from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { boundTimeouts, localOnly, requestTarget, sendText, truncateUtf8 } from './local-http';
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
 * 1 MiB per message, refused beyond with SMTP's 552 (smtp-server's `size`, advertised in EHLO).
 * The shop's emails are a few hundred bytes of text; the catcher shows text only, so a message
 * with large attachments is not one it can show anyway (Mailpit, with Docker, takes those).
 */
export const MAX_MAIL_BYTES = 1024 * 1024;
/** RFC 5321 asks servers to take at least 100 recipients; more are refused with 452. */
const MAX_RECIPIENTS = 100;
/** RFC 5321's limit on a path (an address with its brackets); longer ones are cut when kept. */
const ADDRESS_BYTES = 256;
/** A subject is a line (RFC 5322 recommends 78 characters); 1 KiB keeps any real one whole. */
const SUBJECT_BYTES = 1024;
/** 64 KiB of text per mail kept: pages of prose, and still readable in the JSON list. */
const TEXT_BYTES = 64 * 1024;
/** The last 100 mails... */
const MAX_MAILS = 100;
/**
 * ...and at most 8 MiB of them, whatever their count (strings counted at two bytes a character,
 * as V8 may hold them): the list is served whole as one JSON document, which stays small enough
 * to open in a browser tab.
 */
export const MAX_STORED_MAIL_BYTES = 8 * 1024 * 1024;
const mailBytes = (m: CaughtMail) => 200 + 2 * (m.from.length + m.subject.length + m.text.length + m.to.reduce((n, t) => n + t.length, 0));

const smtpError = (responseCode: number, message: string) => Object.assign(new Error(message), { responseCode });

/** The message's bytes up to the cap; past it nothing more is held (smtp-server answers 552). */
function readMessage(stream: SMTPServerDataStream): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_MAIL_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    stream.once('end', () => resolve(stream.sizeExceeded || size > MAX_MAIL_BYTES ? undefined : Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/**
 * A development mail catcher for `npm start` on a machine without Mailpit: a real SMTP server
 * on SMTP_PORT that keeps recent mails (bounded by count and bytes, above), prints one line per
 * mail, and lists them as JSON at http://127.0.0.1:<webPort>/ (Mailpit's UI port by default).
 * It starts only when nothing listens on the SMTP port already, so a real Mailpit (docker
 * compose) always wins. The list answers loopback Host names only (local-http.ts).
 */
export async function startMailCatcherIfFree(options: { host: string; smtpPort: number; webPort: number; log: (line: string) => void }): Promise<MailCatcher | undefined> {
  if (await tcpReachable(options.host, options.smtpPort, 500)) return undefined;
  const mails: CaughtMail[] = [];
  let storedBytes = 0;
  const keep = (mail: CaughtMail) => {
    mails.unshift(mail);
    storedBytes += mailBytes(mail);
    while (mails.length > MAX_MAILS || (storedBytes > MAX_STORED_MAIL_BYTES && mails.length > 1)) storedBytes -= mailBytes(mails.pop()!);
  };

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: MAX_MAIL_BYTES,
    // A dev machine's processes hold a few pooled connections; a flood is turned away, not queued.
    maxClients: 50,
    onRcptTo(address, session, callback) {
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return callback(smtpError(452, `Too many recipients (this catcher takes ${MAX_RECIPIENTS})`));
      callback();
    },
    onData(stream, session, callback) {
      readMessage(stream)
        .then(async (raw) => {
          if (!raw) return callback(smtpError(552, `Message exceeds ${MAX_MAIL_BYTES} bytes`));
          const parsed = await simpleParser(raw);
          const mail: CaughtMail = {
            receivedAt: new Date().toISOString(),
            from: truncateUtf8(session.envelope.mailFrom ? session.envelope.mailFrom.address : '', ADDRESS_BYTES),
            to: session.envelope.rcptTo.map((r) => truncateUtf8(r.address, ADDRESS_BYTES)),
            subject: truncateUtf8(parsed.subject ?? '', SUBJECT_BYTES),
            text: truncateUtf8(parsed.text ?? '', TEXT_BYTES),
          };
          keep(mail);
          options.log(`to ${mail.to.join(', ')}: ${mail.subject}`.slice(0, 300));
          callback();
        })
        .catch((err: Error) => callback(smtpError(554, `Could not read the message: ${err.message}`)));
    },
  });
  // smtp-server reports a client's broken connection as an 'error' on the server: with no
  // listener that would be an uncaught exception in the supervisor.
  smtp.on('error', (err: Error) => options.log(`SMTP connection error: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(options.smtpPort, options.host, () => resolve());
  });

  const web = http.createServer(
    localOnly('mail catcher', options.log, (req, res) => {
      req.resume();
      const target = requestTarget(req);
      if (!target) return sendText(res, 400, 'Not a path this catcher serves: GET / lists the caught mails as JSON.');
      if (target.path !== '/') return sendText(res, 404, 'GET / lists the caught mails as JSON.');
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, `${req.method} is not served here; GET and HEAD are.`, { allow: 'GET, HEAD' });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(JSON.stringify({ items: mails }, null, 2));
    }),
  );
  boundTimeouts(web);
  await new Promise<void>((resolve, reject) => {
    web.once('error', reject);
    web.listen(options.webPort, '127.0.0.1', () => resolve());
  }).catch(async (err: Error) => {
    await new Promise<void>((r) => smtp.close(() => r()));
    throw err;
  });
  web.on('error', (err) => options.log(`web server error: ${err.message}`));
  return {
    smtp: `${options.host}:${options.smtpPort}`,
    url: `http://127.0.0.1:${options.webPort}/`,
    close: async () => {
      await new Promise<void>((r) => smtp.close(() => r()));
      await new Promise<void>((r) => {
        web.close(() => r());
        web.closeAllConnections();
      });
    },
  };
}
