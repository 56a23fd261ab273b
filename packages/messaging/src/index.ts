export { names, HEADERS, type Names } from './names';
export {
  declareTopology,
  deleteTopology,
  removeTopology,
  DEFAULT_RETRY,
  DELIVERY_LIMIT,
  type DeclaredTopology,
  type RetryPolicy,
  type TopologySpec,
} from './topology';
export { CONTENT_TYPE, encode, extractContext, publishOptions } from './wire';
export { declareHistory, ensureHistory, type HistoryOptions } from './history';
export { startConsumers, type ConsumerOptions, type Consumers } from './consumer';
