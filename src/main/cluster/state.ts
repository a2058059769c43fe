/**
 * A cluster run's status from the two witnesses: the scheduler (Slurm's state of its array task)
 * and the task itself (what its database shard recorded; its log when it failed before recording
 * anything). The shard wins about training (completed, failed and why); Slurm about what the shard
 * cannot say (pending, killed, timed out, cancelled before starting). Pure.
 */
import { clusterStateOf, isClusterStateFinal, type ClusterState } from '../../shared/commands/cluster.js';
import { isFinished, type RunStatus } from '../../shared/runs.js';
import type { SlurmTask } from './slurm.js';

export interface ClusterWitnesses {
  readonly jobId: string;
  readonly arrayTask: number;
  /** Slurm's view, or undefined when no Slurm tool knows the task any more. */
  readonly slurm?: Pick<SlurmTask, 'state' | 'reason' | 'exitCode' | 'node'>;
  /** The task's run as its shard recorded it, if the shard has it yet. */
  readonly shard?: { readonly status: RunStatus; readonly reason: string | null; readonly lastEpochDone: number };
  /** FreezeLab's last error line in the task's log (`freezelab train: ...`), if any. */
  readonly logError?: string | null;
  /** Whether Slurm could be asked (false: no Slurm tools here, e.g. importing on a laptop). */
  readonly slurmAsked: boolean;
  /** What was recorded before (kept when neither witness knows more). */
  readonly previous?: {
    readonly state: ClusterState;
    readonly reason: string | null;
    readonly exitCode: string | null;
    readonly status: RunStatus;
    readonly statusReason: string | null;
  };
}

export interface ClusterVerdict {
  readonly state: ClusterState;
  /** Slurm's words: "FAILED (NonZeroExitCode), exit code 1:0". */
  readonly reason: string | null;
  readonly exitCode: string | null;
  readonly status: RunStatus;
  readonly statusReason: string | null;
}

/** "FAILED (NonZeroExitCode), exit code 1:0" from Slurm's fields. */
export function slurmWords(s: Pick<SlurmTask, 'state' | 'reason' | 'exitCode'>): string {
  const exit = s.exitCode && s.exitCode !== '0:0' ? `, exit code ${s.exitCode}` : '';
  return `${s.state}${s.reason ? ` (${s.reason})` : ''}${exit}`;
}

/** The last `freezelab <command>: message` line of a task's stderr (FreezeLab's own error). */
export function freezelabErrorOf(log: string): string | null {
  const lines = log.split(/\r?\n/).filter((l) => /^freezelab [a-z-]+: /.test(l.trim()));
  const last = lines.at(-1)?.trim();
  return last ? last.replace(/^freezelab [a-z-]+: /, '') : null;
}

export function clusterVerdict(w: ClusterWitnesses): ClusterVerdict {
  const task = `${w.jobId}_${w.arrayTask}`;
  // Without a word from Slurm now, its last word stands.
  const lastFinal = w.previous !== undefined && isClusterStateFinal(w.previous.state);
  const state: ClusterState = w.slurm
    ? clusterStateOf(w.slurm.state)
    : w.slurmAsked && !lastFinal
      ? 'unknown' // asked, and Slurm no longer knows the task
      : (w.previous?.state ?? 'unknown');
  const reasonNow = w.slurm ? slurmWords(w.slurm) : (w.previous?.reason ?? null);
  const exitCode = w.slurm ? w.slurm.exitCode : (w.previous?.exitCode ?? null);
  const shard = w.shard;
  const freezelab = shard?.reason ?? w.logError ?? null;
  const both = (lead: string) =>
    [lead, freezelab ? `FreezeLab: ${sentence(freezelab)}` : null, reasonNow ? `Slurm: ${sentence(reasonNow)}` : null]
      .filter(Boolean)
      .join(' ');

  // The task recorded its end: that is what happened to the run, whatever Slurm says.
  if (shard && isFinished(shard.status) && shard.status !== 'interrupted') {
    const lead =
      shard.status === 'completed'
        ? `Completed on Slurm (job ${task}).`
        : `${cap(shard.status)} on Slurm (job ${task}).`;
    return {
      state,
      reason: reasonNow,
      exitCode,
      status: shard.status,
      statusReason: shard.status === 'completed' ? lead : both(lead),
    };
  }
  if (!w.slurmAsked && shard && !lastFinal) {
    // Slurm cannot be asked from here (importing away from the cluster): the shard's word is all there is.
    return {
      state,
      reason: reasonNow,
      exitCode,
      status: shard.status === 'interrupted' ? 'failed' : shard.status,
      statusReason: `${cap(shard.status)} on Slurm (job ${task}), as its shard says (Slurm cannot be asked from here).`,
    };
  }
  switch (state) {
    case 'pending':
      return {
        state,
        reason: reasonNow,
        exitCode,
        status: 'queued',
        statusReason: `Queued on Slurm (job ${task})${w.slurm?.reason ? `: ${w.slurm.reason}` : ''}.`,
      };
    case 'running':
      return {
        state,
        reason: reasonNow,
        exitCode,
        status: 'running',
        statusReason: `Running on Slurm (job ${task}${w.slurm?.node ? ` on ${w.slurm.node}` : ''}).`,
      };
    case 'cancelled':
      return {
        state,
        reason: reasonNow,
        exitCode,
        status: 'cancelled',
        statusReason: both(`Cancelled on Slurm (job ${task}).`),
      };
    case 'failed':
      return {
        state,
        reason: reasonNow,
        exitCode,
        status: 'failed',
        statusReason: both(`Failed on Slurm (job ${task}).`),
      };
    case 'completed':
      // The task ended well, yet its shard has no finished run: it did not train.
      return {
        state,
        reason: reasonNow,
        exitCode,
        status: 'failed',
        statusReason: both(`Slurm job ${task} ended, but its shard records no finished run.`),
      };
    case 'unknown': {
      // Slurm forgot the task (no accounting, past MinJobAge) before it recorded an end.
      if (w.slurmAsked && (shard?.status === 'running' || shard?.status === 'interrupted' || w.logError)) {
        const stopped = shard
          ? `its run stopped after epoch ${shard.lastEpochDone + 1} without finishing.`
          : 'the task stopped before it recorded a run.';
        return {
          state,
          reason: reasonNow,
          exitCode,
          status: 'failed',
          statusReason: both(`Slurm no longer knows job ${task}; ${stopped}`),
        };
      }
      if (w.previous) return { ...w.previous, state, reason: reasonNow, exitCode };
      return {
        state,
        reason: reasonNow,
        exitCode,
        status: 'queued',
        statusReason: `Submitted to Slurm (job ${task}).`,
      };
    }
  }
}

/** Ends with a full stop unless it already ends a sentence. */
const sentence = (s: string): string => (/[.!?]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
