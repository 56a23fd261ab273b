export { buildNotificationsService, defineNotificationsService, SERVICE_NAME, type NotificationsServiceOptions } from './app';
export { loadNotificationsServiceConfig, notificationsServiceEnv, type NotificationsServiceConfig } from './config';
export type { Mailer } from './domain/mailer';
