import { loadServiceConfig, serviceEnv } from '@banyan/service-kit';

/** The contract's port for products (3102) and its own database; every other variable is the kit's. */
export const productsServiceEnv = serviceEnv({ port: 3102, database: 'banyan_products' });

export const loadProductsServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadServiceConfig(productsServiceEnv, env);
