export { buildProductsService, defineProductsService, SERVICE_NAME } from './app';
export { loadProductsServiceConfig, productsServiceEnv } from './config';
