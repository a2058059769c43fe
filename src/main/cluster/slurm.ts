/**
 * Slurm's command-line tools (sbatch, squeue, scontrol, sacct, scancel) through execFile, each with
 * a timeout; their output parsed by pure functions (exported for tests).
 */
import { execFile } from 'node:child_process';
import { FreezeLabError } from '../../shared/result.js';

/** How long a Slurm command may take before FreezeLab gives up on it (slurmctld may be busy). */
export const SLURM_TIMEOUT_MS = 30_000;

export interface SlurmTask {
  /** The array job id and task index, e.g. "12" and 0. */
  readonly jobId: string;
  readonly arrayTask: number;
  /** Slurm's state word, e.g. PENDING, RUNNING, COMPLETED, FAILED, CANCELLED. */
  readonly state: string;
  /** Slurm's reason (squeue %r, scontrol Reason), null when it is None. */
  readonly reason: string | null;
  /** "exit:signal", e.g. "1:0", when finished. */
  readonly exitCode: string | null;
  readonly node: string | null;
}

interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], timeoutMs = SLURM_TIMEOUT_MS): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const e = error as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') {
          reject(
            new FreezeLabError(
              'not-found',
              `${cmd} was not found: Slurm's commands are not installed on this machine.`,
              'Run FreezeLab on a login node of the cluster (see the Slurm section of the README).',
            ),
          );
          return;
        }
        const why = e.killed ? `timed out after ${Math.round(timeoutMs / 1000)} s` : String(stderr).trim() || e.message;
        reject(new FreezeLabError('conflict', `${cmd} ${args.join(' ')} failed: ${why}`));
        return;
      }
      resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** sbatch --parsable prints "jobid" or "jobid;cluster". */
export function parseSbatch(stdout: string): string {
  const id = stdout.trim().split(/\r?\n/).at(-1)?.split(';')[0]?.trim() ?? '';
  if (!/^\d+$/.test(id))
    throw new FreezeLabError('internal', `sbatch printed no job id (it printed '${stdout.trim()}').`);
  return id;
}

/** Submits a batch script; returns the job id. */
export async function sbatch(script: string, extra: readonly string[] = []): Promise<string> {
  return parseSbatch((await run('sbatch', ['--parsable', ...extra, script])).stdout);
}

/** `squeue -h -r -o %i|%T|%r|%N` lines: one per array task (-r), e.g. "12_0|RUNNING|None|node1". */
export const SQUEUE_FORMAT = '%i|%T|%r|%N';

const splitId = (id: string): { jobId: string; arrayTask: number } | undefined => {
  const m = /^(\d+)_(\d+)$/.exec(id.trim());
  return m ? { jobId: m[1]!, arrayTask: Number(m[2]) } : undefined;
};
const orNull = (s: string | undefined): string | null => {
  const t = (s ?? '').trim();
  return t === '' || t === 'None' || t === '(null)' ? null : t;
};

export function parseSqueue(stdout: string): SlurmTask[] {
  const out: SlurmTask[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const [id, state, reason, node] = line.split('|');
    const ids = id ? splitId(id) : undefined;
    if (!ids || !state) continue;
    out.push({ ...ids, state: state.trim(), reason: orNull(reason), exitCode: null, node: orNull(node) });
  }
  return out;
}

/** `scontrol -o show job ID`: one line of Key=Value pairs per array task. */
export function parseScontrol(stdout: string): SlurmTask[] {
  const out: SlurmTask[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) if (!fields.has(m[1]!)) fields.set(m[1]!, m[2]!);
    const jobId = fields.get('ArrayJobId');
    const task = fields.get('ArrayTaskId');
    const state = fields.get('JobState');
    if (!jobId || task === undefined || !/^\d+$/.test(task) || !state) continue;
    out.push({
      jobId,
      arrayTask: Number(task),
      state,
      reason: orNull(fields.get('Reason')),
      exitCode: orNull(fields.get('ExitCode')),
      node: orNull(fields.get('NodeList')),
    });
  }
  return out;
}

/** `sacct -n -P -X -o JobID,State,Reason,ExitCode,NodeList` lines. */
export function parseSacct(stdout: string): SlurmTask[] {
  const out: SlurmTask[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const [id, state, reason, exitCode, node] = line.split('|');
    const ids = id ? splitId(id) : undefined;
    if (!ids || !state) continue;
    out.push({ ...ids, state: state.trim(), reason: orNull(reason), exitCode: orNull(exitCode), node: orNull(node) });
  }
  return out;
}

const key = (t: { jobId: string; arrayTask: number }) => `${t.jobId}_${t.arrayTask}`;

/**
 * What Slurm knows about the tasks of these array jobs: squeue for live tasks, then scontrol (which
 * remembers finished jobs for MinJobAge) and sacct (accounting, when the cluster has it) for the
 * rest. A tool that is missing or fails is skipped; a task no tool knows is absent from the map.
 */
export async function slurmTasks(jobIds: readonly string[]): Promise<Map<string, SlurmTask>> {
  const found = new Map<string, SlurmTask>();
  if (jobIds.length === 0) return found;
  const add = (tasks: readonly SlurmTask[]) => {
    for (const t of tasks) if (jobIds.includes(t.jobId) && !found.has(key(t))) found.set(key(t), t);
  };
  const attempt = async (cmd: string, args: string[], parse: (s: string) => SlurmTask[]) => {
    try {
      add(parse((await run(cmd, args)).stdout));
    } catch (error) {
      // A missing squeue means no Slurm at all: say so. Other failures (an unknown, purged job id) leave the task unknown.
      if (error instanceof FreezeLabError && error.code === 'not-found' && cmd === 'squeue') throw error;
    }
  };
  await attempt('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', SQUEUE_FORMAT], parseSqueue);
  for (const id of jobIds) await attempt('scontrol', ['-o', 'show', 'job', id], parseScontrol);
  await attempt(
    'sacct',
    ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State,Reason,ExitCode,NodeList'],
    parseSacct,
  );
  return found;
}

/** Cancels one array task. */
export async function scancel(jobId: string, arrayTask: number): Promise<void> {
  await run('scancel', [`${jobId}_${arrayTask}`]);
}
