import { runService } from '@banyan/service-kit';
import { paymentsDefinition, SERVICE_NAME } from './app';
import { loadPaymentsServiceConfig, type PaymentsServiceConfig } from './config';

void runService(SERVICE_NAME, loadPaymentsServiceConfig, (parts, config) => {
  const own = config as PaymentsServiceConfig;
  return paymentsDefinition(parts, { callerToken: own.PAYMENTS_SERVICE_TOKEN ?? own.BANYAN_ADMIN_TOKEN });
});
