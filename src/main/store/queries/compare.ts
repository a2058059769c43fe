/** Comparison rows for a set of runs, read in one snapshot. */
import { comparisonRow } from '../../../shared/compare.js';
import type { ComparisonRow } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { epochsOf } from './epochs.js';
import { getRunRecord } from './runs.js';

/** One comparison row per run id, in the given order (`RunNotFoundError` for an unknown id). */
export function comparisonRows(db: Db, runIds: readonly number[]): ComparisonRow[] {
  return db.transaction(() => runIds.map((id) => comparisonRow(getRunRecord(db, id), epochsOf(db, id))))();
}
