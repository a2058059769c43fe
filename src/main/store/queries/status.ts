/** Run status changes: the lifecycle in `shared/runs.ts` enforced inside write transactions. */
import { canTransition, isFinished, type RunRecord, type RunStatus } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { IllegalTransitionError, RunNotFoundError } from '../errors.js';
import { getRunRecord } from './runs.js';
import { toRun, type RunRow } from './rows.js';

/** SQL of the hot status queries, exported so tests can check their plans. */
export const STATUS_SQL = {
  claimNext: `UPDATE runs SET status = 'running', status_reason = NULL, pid = ?, started_at = COALESCE(started_at, ?),
      finished_at = NULL
    WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1) AND status = 'queued'
    RETURNING *`,
  claimOne: `UPDATE runs SET status = 'running', status_reason = NULL, pid = ?, started_at = COALESCE(started_at, ?),
      finished_at = NULL
    WHERE id = ? AND status = 'queued' RETURNING *`,
  running: `SELECT id, pid, last_epoch_done FROM runs WHERE status = 'running'`,
} as const;

/**
 * Moves a run to `to` with an optional reason. Refuses illegal changes (`IllegalTransitionError`,
 * e.g. completed -> running). Entering `running` records `pid` and the first start time; finishing
 * sets `finished_at` and clears the pid; queuing again clears `finished_at`.
 */
export function setRunStatus(
  db: Db,
  runId: number,
  to: RunStatus,
  opts: { reason?: string | null; pid?: number | null; now?: number } = {},
): RunRecord {
  const now = opts.now ?? Date.now();
  return db
    .transaction(() => {
      const current = db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as
        { status: RunStatus } | undefined;
      if (!current) throw new RunNotFoundError(runId);
      if (!canTransition(current.status, to)) throw new IllegalTransitionError(runId, current.status, to);
      db.prepare(
        `UPDATE runs SET status = ?, status_reason = ?, pid = ?,
           started_at = CASE WHEN ? THEN COALESCE(started_at, ?) ELSE started_at END,
           finished_at = ?
         WHERE id = ?`,
      ).run(
        to,
        opts.reason ?? null,
        to === 'running' ? (opts.pid ?? null) : null,
        to === 'running' ? 1 : 0,
        now,
        isFinished(to) ? now : null,
        runId,
      );
      return getRunRecord(db, runId);
    })
    .immediate();
}

/**
 * Atomically takes a queued run (the given one, else the oldest) and marks it running for `pid`.
 * Returns undefined when there is nothing to take (or the given run is not queued): two workers
 * can never claim the same run, because the status check is part of the single UPDATE.
 */
export function claimRun(db: Db, opts: { pid: number; runId?: number; now?: number }): RunRecord | undefined {
  const now = opts.now ?? Date.now();
  const row = (
    opts.runId === undefined
      ? db.prepare(STATUS_SQL.claimNext).get(opts.pid, now)
      : db.prepare(STATUS_SQL.claimOne).get(opts.pid, now, opts.runId)
  ) as RunRow | undefined;
  return row ? toRun(row) : undefined;
}

/** Whether a process exists. EPERM means it exists but belongs to someone else. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * At startup: `running` runs whose process is gone (crash, power loss, killed app) become
 * `interrupted` with a reason saying so. Returns their ids.
 */
export function markInterruptedRuns(db: Db, opts: { isAlive?: (pid: number) => boolean; now?: number } = {}): number[] {
  const isAlive = opts.isAlive ?? pidAlive;
  const now = opts.now ?? Date.now();
  return db
    .transaction(() => {
      const rows = db.prepare(STATUS_SQL.running).all() as {
        id: number;
        pid: number | null;
        last_epoch_done: number;
      }[];
      const update = db.prepare(
        `UPDATE runs SET status = 'interrupted', status_reason = ?, pid = NULL, finished_at = ? WHERE id = ?`,
      );
      const ids: number[] = [];
      for (const row of rows) {
        if (row.pid !== null && isAlive(row.pid)) continue;
        const who = row.pid === null ? 'The process running it' : `The process running it (pid ${row.pid})`;
        const kept = row.last_epoch_done >= 0 ? `epochs 0-${row.last_epoch_done} are kept` : 'no epoch had finished';
        update.run(`${who} stopped before the run finished; ${kept}. Queue it again to resume.`, now, row.id);
        ids.push(row.id);
      }
      return ids;
    })
    .immediate();
}
