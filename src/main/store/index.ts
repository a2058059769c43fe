/** The run store: SQLite (better-sqlite3) with versioned migrations; queries are plain functions. */
export type { Db } from './db.js';
export { openStore, type OpenStoreOptions } from './open.js';
export { LATEST_SCHEMA_VERSION, migrate } from './migrations/index.js';
export {
  IllegalTransitionError,
  RunNotFoundError,
  StoreNewerVersionError,
  StoreNotDatabaseError,
  StoreUnavailableError,
  StoreForeignError,
  StorePathError,
  RunOwnedError,
} from './errors.js';
export { databaseId, FREEZELAB_APPLICATION_ID } from './identity.js';
export {
  describeOwner,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_STALE_MS,
  localProcess,
  ownerAlive,
  pidAlive,
  processStartTime,
  thisProcess,
  type LivenessProbe,
  type ProcessIdentity,
  type RunOwner,
} from './owner.js';
export {
  createRun,
  deleteRun,
  getRun,
  getRunRecord,
  listRuns,
  runIdByUuid,
  runsOfSweep,
  runUuid,
  setRunModelInfo,
} from './queries/runs.js';
export {
  claimRun,
  heartbeat,
  markInterruptedRuns,
  ownsRun,
  queuedRunsFor,
  runOwner,
  runStates,
  setRunStatus,
} from './queries/status.js';
export { classApOf, epochsOf, recordEpoch } from './queries/epochs.js';
export { addSamples, samplesOf } from './queries/samples.js';
export { addArtifact, artifactsOf } from './queries/artifacts.js';
export { addRunNote, notesOf } from './queries/notes.js';
export { latestEvaluation, saveEvaluation } from './queries/evaluations.js';
export { createSweep, getSweep, listSweeps, sweepIdByUuid } from './queries/sweeps.js';
export { addClusterJob, clusterJobOf, clusterJobs, setClusterState, type NewClusterJob } from './queries/cluster.js';
export { mergeShard, zeroCounts, type MergedRun, type PlaceArtifact, type ShardArtifact } from './queries/merge.js';
export { userVersion } from './db.js';
export { comparisonRows } from './queries/compare.js';
