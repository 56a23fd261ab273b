/**
 * What other workspaces reuse from the CLI: the gateway's dashboard shows the same outbox report
 * as `banyan outbox` and runs the same `verify` as `banyan verify`, so the numbers on the screen
 * and in the terminal can never disagree.
 */
export { outboxReport, type OutboxReport } from './commands/outbox';
export { backfill, loadSyncSpec, verify, type BackfillProgress, type BackfillResult, type Difference } from './sync/engine';
export { connectDomain } from './sync/engine-connect';
export type { DomainSyncSpec, SyncRow, TableSyncSpec } from './sync/types';
