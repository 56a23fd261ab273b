export { createRelay, type Relay, type RelayOptions, type RelayStats } from './relay';
export { ConfirmPublisher, type OutgoingMessage, type PublishResult, type PublisherOptions } from './publisher';
export { PartitionLeases } from './leases';
export { fetchBatch, markPublished, recordFailure, deletePublished, type RelayRow } from './store';
export { relayConfigSchema, loadRelayConfig, type RelayConfig } from './config';
export { observeOutbox, relayMetrics } from './metrics';
export { serveRelayHttp, type RelayHttp, type RelayHttpOptions } from './http';
