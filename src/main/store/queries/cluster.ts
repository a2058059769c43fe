/** Runs submitted to a cluster (`cluster_jobs`, schema 5): their array task and the scheduler's state. */
import type { ClusterJob, ClusterState } from '../../../shared/commands/cluster.js';
import type { RunStatus } from '../../../shared/runs.js';
import { isFinished } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { RunNotFoundError } from '../errors.js';

interface ClusterJobRow {
  run_id: number;
  scheduler: 'slurm';
  job_id: string;
  array_task: number;
  sweep_dir: string;
  shard_path: string;
  log_path: string | null;
  state: ClusterState;
  reason: string | null;
  exit_code: string | null;
  updated_at: number;
}

const toJob = (r: ClusterJobRow): ClusterJob => ({
  runId: r.run_id,
  scheduler: r.scheduler,
  jobId: r.job_id,
  arrayTask: r.array_task,
  sweepDir: r.sweep_dir,
  shardPath: r.shard_path,
  logPath: r.log_path,
  state: r.state,
  reason: r.reason,
  exitCode: r.exit_code,
  updatedAt: r.updated_at,
});

export type NewClusterJob = Omit<ClusterJob, 'updatedAt' | 'exitCode'> & { readonly exitCode?: string | null };

/** Records that a run is a cluster task (no-op when it already is). Returns whether a row was added. */
export function addClusterJob(db: Db, job: NewClusterJob, now: number = Date.now()): boolean {
  return (
    db
      .prepare(
        `INSERT OR IGNORE INTO cluster_jobs (run_id, scheduler, job_id, array_task, sweep_dir, shard_path, log_path,
           state, reason, exit_code, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        job.runId,
        job.scheduler,
        job.jobId,
        job.arrayTask,
        job.sweepDir,
        job.shardPath,
        job.logPath,
        job.state,
        job.reason,
        job.exitCode ?? null,
        now,
      ).changes > 0
  );
}

/** The run's cluster job, or undefined for a run trained here. */
export function clusterJobOf(db: Db, runId: number): ClusterJob | undefined {
  const row = db.prepare('SELECT * FROM cluster_jobs WHERE run_id = ?').get(runId) as ClusterJobRow | undefined;
  return row ? toJob(row) : undefined;
}

/** Every cluster job, newest run first; `unfinished` keeps those whose run may still change. */
export function clusterJobs(db: Db, opts: { unfinished?: boolean } = {}): ClusterJob[] {
  const rows = db
    .prepare(
      `SELECT c.* FROM cluster_jobs c JOIN runs r ON r.id = c.run_id
       ${opts.unfinished ? "WHERE c.state NOT IN ('completed', 'failed', 'cancelled') OR r.status IN ('queued', 'running')" : ''}
       ORDER BY r.created_at DESC, r.id DESC`,
    )
    .all() as ClusterJobRow[];
  return rows.map(toJob);
}

/**
 * Records the scheduler's state of a cluster run and the run status it implies (a cluster run's
 * status mirrors its task: it is not moved through the local lifecycle by a runner). Writes only
 * what changed; returns whether the run's status changed.
 */
export function setClusterState(
  db: Db,
  runId: number,
  s: {
    state: ClusterState;
    reason: string | null;
    exitCode: string | null;
    status: RunStatus;
    statusReason: string | null;
  },
  now: number = Date.now(),
): { jobChanged: boolean; statusChanged: boolean } {
  return db
    .transaction(() => {
      const run = db.prepare('SELECT status, status_reason, finished_at FROM runs WHERE id = ?').get(runId) as
        { status: RunStatus; status_reason: string | null; finished_at: number | null } | undefined;
      if (!run) throw new RunNotFoundError(runId);
      const jobChanged =
        db
          .prepare(
            `UPDATE cluster_jobs SET state = ?, reason = ?, exit_code = ?, updated_at = ?
             WHERE run_id = ? AND (state IS NOT ? OR reason IS NOT ? OR exit_code IS NOT ?)`,
          )
          .run(s.state, s.reason, s.exitCode, now, runId, s.state, s.reason, s.exitCode).changes > 0;
      const statusChanged = run.status !== s.status;
      if (statusChanged || run.status_reason !== s.statusReason) {
        db.prepare(
          `UPDATE runs SET status = ?, status_reason = ?,
             started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,
             finished_at = CASE WHEN ? THEN COALESCE(finished_at, ?) ELSE NULL END
           WHERE id = ?`,
        ).run(s.status, s.statusReason, s.status, now, isFinished(s.status) ? 1 : 0, now, runId);
      }
      return { jobChanged, statusChanged };
    })
    .immediate();
}
