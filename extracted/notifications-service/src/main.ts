import nodemailer from 'nodemailer';
import { runService } from '@banyan/service-kit';
import { staticRoutes, watchRoutes } from '@banyan/routing-client';
import { defineNotificationsService, SERVICE_NAME } from './app';
import { loadNotificationsServiceConfig } from './config';

void runService(
  SERVICE_NAME,
  () => loadNotificationsServiceConfig(),
  (parts, config) =>
    defineNotificationsService(parts, {
      mailer: nodemailer.createTransport({ host: config.SMTP_HOST, port: config.SMTP_PORT, secure: false, ignoreTLS: true, pool: true }),
      from: config.MAIL_FROM,
    }),
  {
    routing: (config, logger) => {
      if (!config.BANYAN_ADMIN_TOKEN) {
        logger.warn('BANYAN_ADMIN_TOKEN not set: the routing table is unreadable, so the monolith keeps sending the emails');
        return staticRoutes();
      }
      return watchRoutes({
        adminUrl: config.GATEWAY_ADMIN_URL,
        token: config.BANYAN_ADMIN_TOKEN,
        onError: (err) => logger.debug({ err: err.message }, 'gateway routing table not readable; keeping the last known'),
      });
    },
  },
);
