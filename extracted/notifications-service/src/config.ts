import { smtpEnv, z } from '@banyan/config';
import { loadServiceConfig, serviceEnv } from '@banyan/service-kit';

/**
 * The contract's port for notifications (3105) and its own database, plus what this service
 * alone needs: SMTP and the sender (the same MAIL_FROM as the monolith's, so a Message-ID names
 * the same domain whichever side sends), and the gateway's admin API, whose routing table decides
 * whether this service or the monolith sends the emails.
 */
export const notificationsServiceEnv = {
  ...serviceEnv({ port: 3105, database: 'banyan_notifications' }),
  ...smtpEnv,
  MAIL_FROM: z.string().default('Banyan Shop <shop@banyan.local>'),
  GATEWAY_ADMIN_URL: z.string().url().default('http://127.0.0.1:8081'),
  /** Without it the service cannot read the routing table and never takes over the emails. */
  BANYAN_ADMIN_TOKEN: z.string().min(16).optional(),
};

export type NotificationsServiceConfig = z.infer<z.ZodObject<typeof notificationsServiceEnv>>;

export const loadNotificationsServiceConfig = (env: NodeJS.ProcessEnv = process.env): NotificationsServiceConfig =>
  loadServiceConfig(notificationsServiceEnv, env);
