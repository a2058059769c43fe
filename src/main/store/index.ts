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
} from './errors.js';
export { createRun, deleteRun, getRun, getRunRecord, listRuns, runsOfSweep, setRunModelInfo } from './queries/runs.js';
export { claimRun, markInterruptedRuns, pidAlive, setRunStatus } from './queries/status.js';
export { classApOf, epochsOf, recordEpoch } from './queries/epochs.js';
export { addSamples, samplesOf } from './queries/samples.js';
export { addArtifact, artifactsOf } from './queries/artifacts.js';
export { addRunNote, notesOf } from './queries/notes.js';
export { latestEvaluation, saveEvaluation } from './queries/evaluations.js';
export { createSweep, getSweep, listSweeps } from './queries/sweeps.js';
export { comparisonRows } from './queries/compare.js';
