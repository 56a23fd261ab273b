import { z } from '@banyan/config';
import { loadServiceConfig, serviceEnv } from '@banyan/service-kit';

/** The contract's port for products (3102) and its own database; every other variable is the kit's. */
export const productsServiceEnv = {
  ...serviceEnv({ port: 3102, database: 'banyan_products' }),
  /**
   * The extracted orders service's credential at the stock API (ADR 0314): it cannot get a
   * `service` token from the users domain. Unset, only such tokens are taken.
   */
  PRODUCTS_SERVICE_TOKEN: z.string().min(16).optional(),
};

export const loadProductsServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadServiceConfig(productsServiceEnv, env);
