import { runService } from '@banyan/service-kit';
import { defineAnalyticsService, SERVICE_NAME } from './app';
import { loadAnalyticsServiceConfig } from './config';

void runService(SERVICE_NAME, () => loadAnalyticsServiceConfig(), (parts, config) =>
  defineAnalyticsService(parts, { url: config.RABBITMQ_URL, namespace: config.BANYAN_MQ_NAMESPACE }),
);
