/**
 * Sweeps run on a Slurm cluster: submission (one job-array task per run, each with its own
 * database shard in a sweep folder on the shared filesystem), the scheduler's state of each task,
 * and the import of the shards into this database. Plain data, no I/O.
 */
import { z } from 'zod';
import { command, noInput } from '../command.js';
import { sweepRequestSchema } from '../train-config.js';
import type { RunStatus } from '../runs.js';

/** What the scheduler says about a task, reduced to what FreezeLab acts on. */
export const CLUSTER_STATES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'unknown'] as const;
export type ClusterState = (typeof CLUSTER_STATES)[number];

/** Whether the scheduler is done with a task (nothing it says will change any more). */
export const isClusterStateFinal = (s: ClusterState): boolean =>
  s === 'completed' || s === 'failed' || s === 'cancelled';

/** Slurm's job states (squeue/sacct/scontrol `JobState`), each mapped to a cluster state. */
export const SLURM_STATES: Readonly<Record<string, ClusterState>> = {
  PENDING: 'pending',
  REQUEUED: 'pending',
  REQUEUE_FED: 'pending',
  REQUEUE_HOLD: 'pending',
  RESV_DEL_HOLD: 'pending',
  SUSPENDED: 'pending',
  CONFIGURING: 'running',
  RUNNING: 'running',
  COMPLETING: 'running',
  RESIZING: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  STOPPED: 'running',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
  TIMEOUT: 'failed',
  NODE_FAIL: 'failed',
  OUT_OF_MEMORY: 'failed',
  PREEMPTED: 'failed',
  BOOT_FAIL: 'failed',
  DEADLINE: 'failed',
  REVOKED: 'failed',
  SPECIAL_EXIT: 'failed',
};

/** A Slurm state word (sacct may append ` by UID` to CANCELLED, squeue uses the long form) as a cluster state. */
export function clusterStateOf(slurmState: string): ClusterState {
  const word = slurmState.trim().split(/\s+/)[0]?.toUpperCase().replace(/\+$/, '') ?? '';
  return SLURM_STATES[word] ?? 'unknown';
}

/** A run submitted to a cluster: its array task and the scheduler's last word on it. */
export interface ClusterJob {
  readonly runId: number;
  readonly scheduler: 'slurm';
  /** The array job id (as sbatch printed it, e.g. "1234"). */
  readonly jobId: string;
  readonly arrayTask: number;
  /** The sweep folder on the shared filesystem. */
  readonly sweepDir: string;
  /** The task's database shard. */
  readonly shardPath: string;
  readonly logPath: string | null;
  readonly state: ClusterState;
  /** Slurm's state word and reason, e.g. "PENDING (Resources)" or "FAILED (NonZeroExitCode)". */
  readonly reason: string | null;
  readonly exitCode: string | null;
  readonly updatedAt: number;
}

/** How many rows an import added or changed (all zero: the database already had everything). */
export interface ImportCounts {
  readonly sweeps: number;
  readonly runsAdded: number;
  readonly runsUpdated: number;
  readonly epochs: number;
  readonly classAp: number;
  readonly samples: number;
  readonly notes: number;
  readonly artifacts: number;
  readonly evaluations: number;
  readonly clusterJobs: number;
  /** Cluster runs whose status, reason or Slurm state changed. */
  readonly statusChanges: number;
}

export interface ImportedRun {
  readonly runId: number;
  readonly uuid: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly reason: string | null;
  /** Epochs recorded (1-based count). */
  readonly epochs: number;
  readonly checkpoints: number;
  readonly cluster: ClusterJob | null;
}

export interface ImportResult {
  readonly shards: readonly string[];
  readonly counts: ImportCounts;
  readonly runs: readonly ImportedRun[];
}

/** HH:MM:SS, D-HH:MM:SS or minutes, as sbatch --time takes it. */
const slurmTimeSchema = z
  .string()
  .trim()
  .regex(/^(\d+-)?\d{1,3}(:\d{2}){0,2}$/, 'a time limit as HH:MM:SS, D-HH:MM:SS or minutes');
/** Partition and account names: no spaces or shell characters (they go into the script's #SBATCH lines). */
const slurmNameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.,@+-]+$/, 'a Slurm name (letters, digits, _ . , @ + -)');

export const slurmOptionsSchema = z
  .object({
    partition: slurmNameSchema.optional(),
    account: slurmNameSchema.optional(),
    gpusPerRun: z.number().int().min(0).max(64).default(0),
    cpusPerRun: z.number().int().min(1).max(256).default(1),
    time: slurmTimeSchema.optional(),
    /** Submit held (`sbatch --hold`): nothing starts until `scontrol release JOBID`. */
    hold: z.boolean().default(false),
  })
  .strict();
export type SlurmOptions = z.output<typeof slurmOptionsSchema>;

export interface SubmitResult {
  /** Null for a dry run (nothing written, nothing submitted). */
  readonly sweepId: number | null;
  readonly dir: string;
  readonly jobId: string | null;
  readonly runIds: readonly number[];
  /** The job-array script (what --dry-run prints). */
  readonly script: string;
}

export const clusterCommands = {
  /**
   * Submit a sweep to Slurm: writes the sweep folder (one task config per run, the array script)
   * and runs sbatch; the sweep and its runs are recorded here at once, queued on Slurm.
   */
  'cluster.submit': command<SubmitResult>()(
    z
      .object({
        sweep: sweepRequestSchema,
        slurm: slurmOptionsSchema,
        /** The sweep folder (on the filesystem the cluster shares); default <data folder>/sweeps/<id>. */
        dir: z.string().trim().min(1).optional(),
        dryRun: z.boolean().default(false),
        /** The command the tasks run FreezeLab with (node and bin/freezelab.js); default this build's. */
        freezelab: z
          .object({ node: z.string().min(1), script: z.string().min(1) })
          .strict()
          .optional(),
      })
      .strict(),
  ),
  /** A Slurm task's work: create the run a task config describes (once) in this database and train it. */
  'cluster.task': command<{ readonly runId: number }>()(z.object({ config: z.string().trim().min(1) }).strict()),
  /** Ask Slurm about unfinished cluster runs, bring in what their shards recorded so far. */
  'cluster.refresh': command<readonly ClusterJob[]>()(noInput),
  /** The cluster runs (all, newest first). */
  'cluster.jobs': command<readonly ClusterJob[]>()(noInput),
  /** Merge a sweep folder's shards (or one shard) into this database; safe to repeat, safe while tasks run. */
  'cluster.import': command<ImportResult>()(z.object({ path: z.string().trim().min(1) }).strict()),
} as const;
