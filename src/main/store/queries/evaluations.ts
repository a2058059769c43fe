/** Final evaluations of a run's weights (metrics, PR curves and confusion matrix as JSON). */
import type { EvalResult } from '../../../shared/metrics.js';
import type { FinalEvaluation } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { RunNotFoundError } from '../errors.js';
import { real } from './rows.js';

interface EvaluationRow {
  run_id: number;
  created_at: number;
  weights: 'best' | 'last';
  split: string;
  result_json: string;
}

/** Stores an evaluation of `best` or `last` weights on a dataset split. */
export function saveEvaluation(
  db: Db,
  runId: number,
  e: { weights: 'best' | 'last'; split: string; result: EvalResult },
  now: number = Date.now(),
): void {
  if (!db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) throw new RunNotFoundError(runId);
  db.prepare(
    `INSERT INTO evaluations (run_id, created_at, weights, split, map50, map50_95, result_json)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(runId, now, e.weights, e.split, real(e.result.map50), real(e.result.map50_95), JSON.stringify(e.result));
}

/** The most recent evaluation of a run, or null. */
export function latestEvaluation(db: Db, runId: number): FinalEvaluation | null {
  const row = db
    .prepare('SELECT * FROM evaluations WHERE run_id = ? ORDER BY created_at DESC, id DESC LIMIT 1')
    .get(runId) as EvaluationRow | undefined;
  if (!row) return null;
  return {
    runId: row.run_id,
    createdAt: row.created_at,
    weights: row.weights,
    split: row.split,
    result: JSON.parse(row.result_json) as EvalResult,
  };
}
