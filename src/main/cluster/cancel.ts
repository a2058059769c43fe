/** Cancelling a cluster run: scancel its array task, then record it cancelled. */
import { FreezeLabError } from '../../shared/result.js';
import type { RunStatus } from '../../shared/runs.js';
import { clusterJobOf, getRunRecord, setClusterState, type Db } from '../store/index.js';
import { scancel } from './slurm.js';

/** Cancels a cluster run with scancel; undefined for a run trained here (the caller cancels it as before). */
export async function cancelClusterRun(
  db: Db,
  runId: number,
  onStatus: (runId: number, status: RunStatus, reason: string) => void,
): Promise<{ status: RunStatus } | undefined> {
  const job = clusterJobOf(db, runId);
  if (!job) return undefined;
  const run = getRunRecord(db, runId);
  const task = `${job.jobId}_${job.arrayTask}`;
  if (run.status !== 'queued' && run.status !== 'running') {
    throw new FreezeLabError('conflict', `Run ${runId} is ${run.status} on Slurm (job ${task}).`);
  }
  await scancel(job.jobId, job.arrayTask);
  const reason = `Cancelled by the user (scancel ${task}).`;
  setClusterState(db, runId, {
    state: 'cancelled',
    reason: 'CANCELLED (by the user)',
    exitCode: job.exitCode,
    status: 'cancelled',
    statusReason: reason,
  });
  onStatus(runId, 'cancelled', reason);
  return { status: 'cancelled' };
}
