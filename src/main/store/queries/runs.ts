/** Creating, reading, listing and deleting runs. Status changes live in `status.ts`. */
import { randomUUID } from 'node:crypto';
import type { NewRun, RunDetail, RunRecord, RunStatus, RunSummary } from '../../../shared/runs.js';
import { FreezeLabError } from '../../../shared/result.js';
import type { Db } from '../db.js';
import { notesOf } from './notes.js';
import { RunNotFoundError } from '../errors.js';
import { artifactsOf } from './artifacts.js';
import { classApOf, epochsOf } from './epochs.js';
import { latestEvaluation } from './evaluations.js';
import { int, toHeadline, toRun, type RunRow } from './rows.js';
import { thisProcess, type ProcessIdentity } from '../owner.js';

/** The `queued_by_json` of a run queued by `who` at `at`. */
export const queuedByJson = (who: ProcessIdentity, at: number): string =>
  JSON.stringify({ pid: who.pid, host: who.host, startedAt: who.startedAt, at });

const HEADLINE = ['epoch', 'precision', 'recall', 'map50', 'map50_95', 'fitness'];
const headlineCols = (alias: string, prefix: string) =>
  HEADLINE.map((c) => `${alias}.${c} AS ${prefix}${c}`).join(', ');

/** The runs list: each run joined with its last and best epoch (both through `epochs_by_run`). */
const SUMMARY_SELECT = `
  SELECT r.*, ${headlineCols('l', 'l_')}, ${headlineCols('b', 'b_')}
  FROM runs r
  LEFT JOIN epochs l ON l.run_id = r.id AND l.epoch = r.last_epoch_done
  LEFT JOIN epochs b ON b.run_id = r.id AND b.epoch = r.best_epoch`;

/** SQL of the hot list queries, exported so tests can check their plans. */
export const RUN_LIST_SQL = {
  all: `${SUMMARY_SELECT} ORDER BY r.created_at DESC, r.id DESC LIMIT ?`,
  byStatus: `${SUMMARY_SELECT} WHERE r.status = ? ORDER BY r.created_at DESC, r.id DESC LIMIT ?`,
  bySweep: `${SUMMARY_SELECT} WHERE r.sweep_id = ? ORDER BY r.created_at, r.id`,
} as const;

const toSummary = (row: RunRow & Record<string, unknown>): RunSummary => ({
  run: toRun(row),
  last: toHeadline(row, 'l_'),
  best: toHeadline(row, 'b_'),
});

/**
 * Inserts a queued run, queued by this process, and returns it. `uuid` names the run across
 * databases (a cluster task's shard and the database it is imported into); a new one by default.
 */
export function createRun(
  db: Db,
  run: NewRun,
  now: number = Date.now(),
  opts: { readonly uuid?: string } = {},
): RunRecord {
  const info = db
    .prepare(
      `INSERT INTO runs (created_at, name, sweep_id, status, config_json, dataset_path, dataset_fingerprint,
         weights_path, weights_sha256, model, img_size, batch, epochs, freeze_spec, frozen_modules_json,
         bn_policy, hyp_name, backend, trainable_params, total_params, seed, queued_by_json, uuid)
       VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      now,
      run.name,
      run.sweepId ?? null,
      JSON.stringify(run.config ?? null),
      run.datasetPath,
      run.datasetFingerprint ?? null,
      run.weightsPath ?? null,
      run.weightsSha256 ?? null,
      run.model,
      run.imgSize,
      run.batch,
      run.epochs,
      run.freezeSpec,
      JSON.stringify(run.frozenModules ?? []),
      run.bnPolicy,
      run.hypName ?? null,
      run.backend ?? null,
      int(run.trainableParams),
      int(run.totalParams),
      run.seed ?? 0,
      queuedByJson(thisProcess(), now),
      opts.uuid ?? randomUUID(),
    );
  return getRunRecord(db, Number(info.lastInsertRowid));
}

/** What is only known once the model is built: the resolved frozen modules and parameter counts. */
export function setRunModelInfo(
  db: Db,
  runId: number,
  info: { frozenModules: readonly number[]; trainableParams: number; totalParams: number; backend?: string },
): void {
  const res = db
    .prepare(
      `UPDATE runs SET frozen_modules_json = ?, trainable_params = ?, total_params = ?, backend = COALESCE(?, backend)
       WHERE id = ?`,
    )
    .run(
      JSON.stringify(info.frozenModules),
      int(info.trainableParams),
      int(info.totalParams),
      info.backend ?? null,
      runId,
    );
  if (res.changes === 0) throw new RunNotFoundError(runId);
}

/** The stored run, or `RunNotFoundError`. */
export function getRunRecord(db: Db, runId: number): RunRecord {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
  if (!row) throw new RunNotFoundError(runId);
  return toRun(row);
}

/** Newest first, each with its last and best epoch metrics. */
export function listRuns(db: Db, opts: { status?: RunStatus; limit?: number } = {}): RunSummary[] {
  const limit = Math.max(1, Math.trunc(opts.limit ?? 1000));
  const rows = (
    opts.status === undefined
      ? db.prepare(RUN_LIST_SQL.all).all(limit)
      : db.prepare(RUN_LIST_SQL.byStatus).all(opts.status, limit)
  ) as (RunRow & Record<string, unknown>)[];
  return rows.map(toSummary);
}

/** The runs of a sweep, in creation order. */
export function runsOfSweep(db: Db, sweepId: number): RunSummary[] {
  return (db.prepare(RUN_LIST_SQL.bySweep).all(sweepId) as (RunRow & Record<string, unknown>)[]).map(toSummary);
}

/** Everything the run detail view shows. */
export function getRun(db: Db, runId: number): RunDetail {
  const read = db.transaction((): RunDetail => {
    const run = getRunRecord(db, runId);
    const epoch = run.bestEpoch ?? (run.lastEpochDone >= 0 ? run.lastEpochDone : null);
    return {
      run,
      notes: notesOf(db, runId),
      epochs: epochsOf(db, runId),
      classAp: epoch === null ? [] : classApOf(db, runId, epoch),
      artifacts: artifactsOf(db, runId),
      evaluation: latestEvaluation(db, runId),
    };
  });
  return read(); // one read transaction: a consistent snapshot even while a writer records epochs
}

/**
 * Deletes a run and everything it owns (epochs, samples, artifacts rows, evaluations). Refused
 * while it runs. Returns the artifact paths so the caller can remove the files.
 */
export function deleteRun(db: Db, runId: number): string[] {
  return db
    .transaction(() => {
      const run = getRunRecord(db, runId);
      if (run.status === 'running') {
        throw new FreezeLabError('conflict', `Run ${runId} is running.`, 'Cancel it before deleting it.');
      }
      const paths = artifactsOf(db, runId).map((a) => a.path);
      db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
      return paths;
    })
    .immediate();
}

/** The run's UUID (schema 5+), which names it in every database it is copied to. */
export function runUuid(db: Db, runId: number): string {
  const row = db.prepare('SELECT uuid FROM runs WHERE id = ?').get(runId) as { uuid: string } | undefined;
  if (!row) throw new RunNotFoundError(runId);
  return row.uuid;
}

/** The id of the run with this UUID, if this database has it. */
export function runIdByUuid(db: Db, uuid: string): number | undefined {
  return (db.prepare('SELECT id FROM runs WHERE uuid = ?').get(uuid) as { id: number } | undefined)?.id;
}
