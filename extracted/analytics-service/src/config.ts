import { loadServiceConfig, serviceEnv } from '@banyan/service-kit';
import type { z } from '@banyan/config';

/** The contract's port for analytics (3106) and its own database; the broker from the shared env. */
export const analyticsServiceEnv = serviceEnv({ port: 3106, database: 'banyan_analytics' });

export type AnalyticsServiceConfig = z.infer<z.ZodObject<typeof analyticsServiceEnv>>;

export const loadAnalyticsServiceConfig = (env: NodeJS.ProcessEnv = process.env): AnalyticsServiceConfig => loadServiceConfig(analyticsServiceEnv, env);
