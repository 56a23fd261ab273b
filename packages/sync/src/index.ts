export { backfill, verify, type BackfillProgress, type BackfillResult, type Difference } from './engine';
export { connectDomain } from './engine-connect';
export { loadSyncSpec, NoSyncSpecError } from './spec';
export type { DomainSyncSpec, SyncRow, TableSyncSpec } from './types';
export {
  claimDefinition,
  ensureLiveProjection,
  liveProjection,
  projectionVersions,
  projectionVersionsDdl,
  promoteIfCaughtUp,
  recordProgress,
  requestRebuild,
  type ProjectionState,
  type ProjectionVersion,
} from './projection';
export { rebuildProjection, verifyFigures, type RebuildProgress } from './figures';
