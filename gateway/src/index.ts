export { buildGateway, type Gateway, type GatewayDeps } from './gateway';
export { listen, DEFAULT_FRONT_DOOR, type FrontDoor } from './server';
export { gatewayConfigSchema, loadGatewayConfig, type GatewayConfig } from './config';
export { MODES, type Domain, type Mode, type Side, type CompareRules } from './domains';
export { topologyOf, type Topology, type DomainRoute } from './topology';
export { classifyPath } from './paths';
export { bucketOf } from './sticky';
export { gatewaySchema } from './store';
