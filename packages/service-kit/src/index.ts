export { serviceEnv, loadServiceConfig, type ServiceConfig } from './config';
export { buildService, type ServiceDefinition, type ServiceParts, type BuiltService } from './service';
export { runService } from './run';
export { followRoute, startRoutedConsumers, type RouteFollower } from './routed';
