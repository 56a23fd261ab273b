import type { Transporter } from 'nodemailer';

/**
 * The one nodemailer call the module makes. A pooled SMTP transporter in production; tests hand
 * in a transporter pointed at their own SMTP server (or at a closed port).
 */
export type Mailer = Pick<Transporter, 'sendMail'>;
