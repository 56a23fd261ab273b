import { runService } from '@banyan/service-kit';
import { paymentsDefinition, SERVICE_NAME } from './app';
import { loadPaymentsServiceConfig, type PaymentsServiceConfig } from './config';

void runService(SERVICE_NAME, loadPaymentsServiceConfig, (parts, config) =>
  paymentsDefinition(parts, { callerToken: (config as PaymentsServiceConfig).PAYMENTS_SERVICE_TOKEN }),
);
