import type { Transporter } from 'nodemailer';

/**
 * What the module needs of nodemailer: `sendMail`, and `close` when the transport holds
 * connections. A pooled SMTP transporter in production; tests hand in a transporter pointed at
 * their own SMTP server (or at a closed port).
 */
export type Mailer = Pick<Transporter, 'sendMail'> & Partial<Pick<Transporter, 'close'>>;
