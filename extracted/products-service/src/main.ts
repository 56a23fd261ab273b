import { runService } from '@banyan/service-kit';
import { defineProductsService, SERVICE_NAME } from './app';
import { loadProductsServiceConfig } from './config';

void runService(SERVICE_NAME, () => loadProductsServiceConfig(), (parts, config) => defineProductsService(parts, { callerToken: config.PRODUCTS_SERVICE_TOKEN }));
