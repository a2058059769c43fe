/**
 * The sweep folder a Slurm submission writes on the shared filesystem, and its job-array script:
 *
 *   <dir>/sweep.json              the sweep (its UUID, name, request) and, once submitted, the job id
 *   <dir>/submit.sh               the array script: task i trains tasks/<i>/config.json
 *   <dir>/tasks/<i>/config.json   one run: its UUID, the sweep's, and its resolved configuration
 *   <dir>/tasks/<i>/freezelab.db  the task's database shard (its own data folder: runs/ beside it)
 *   <dir>/logs/task-<i>.out/.err  the task's output
 */
import path from 'node:path';
import type { SlurmOptions } from '../../shared/commands/cluster.js';

export const SWEEP_FILE = 'sweep.json';
export const SCRIPT_FILE = 'submit.sh';
export const TASK_CONFIG_FILE = 'config.json';
export const SHARD_FILE = 'freezelab.db';
export const TASK_FILE_KIND = 'freezelab-slurm-task';

export const taskDir = (dir: string, task: number): string => path.join(dir, 'tasks', String(task));
export const taskConfigPath = (dir: string, task: number): string => path.join(taskDir(dir, task), TASK_CONFIG_FILE);
export const shardPath = (dir: string, task: number): string => path.join(taskDir(dir, task), SHARD_FILE);
export const logPath = (dir: string, task: number, stream: 'out' | 'err'): string =>
  path.join(dir, 'logs', `task-${task}.${stream}`);

/** Quotes a word for bash (single quotes; a single quote inside becomes '\''). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface ArrayScriptInput {
  readonly dir: string;
  readonly tasks: number;
  readonly name: string;
  readonly slurm: SlurmOptions;
  /** How the tasks run FreezeLab: a Node binary and bin/freezelab.js (overridable in the task's environment). */
  readonly node: string;
  readonly script: string;
}

/** A Slurm job name: short and without spaces. */
export const jobName = (name: string): string =>
  `freezelab-${
    name
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'sweep'
  }`;

/**
 * The job-array script: one task per run (`--array=0-N-1`), each training its task config with its
 * own data folder (so its own database shard) inside the sweep folder.
 */
export function arrayScript(input: ArrayScriptInput): string {
  if (!Number.isInteger(input.tasks) || input.tasks < 1)
    throw new Error(`a sweep has at least one run, not ${input.tasks}`);
  if (/[\s"'\\$`]/.test(input.dir)) {
    // #SBATCH lines are not parsed by a shell: a path with spaces or quotes cannot be written there.
    throw new Error(`the sweep folder ${input.dir} contains spaces or shell characters`);
  }
  const s = input.slurm;
  const sbatch = [
    `--job-name=${jobName(input.name)}`,
    `--array=0-${input.tasks - 1}`,
    `--output=${path.join(input.dir, 'logs', 'task-%a.out')}`,
    `--error=${path.join(input.dir, 'logs', 'task-%a.err')}`,
    '--ntasks=1',
    `--cpus-per-task=${s.cpusPerRun}`,
    ...(s.gpusPerRun > 0 ? [`--gres=gpu:${s.gpusPerRun}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.account ? [`--account=${s.account}`] : []),
  ];
  return [
    '#!/bin/bash',
    `# FreezeLab sweep "${input.name.replace(/[\r\n]/g, ' ')}": ${input.tasks} run(s), one array task each.`,
    '# Submitted by `freezelab sweep --slurm`; import the results with `freezelab import <this folder>`.',
    ...sbatch.map((o) => `#SBATCH ${o}`),
    '',
    'set -euo pipefail',
    `SWEEP_DIR=${shellQuote(input.dir)}`,
    'TASK="${SLURM_ARRAY_TASK_ID:?submit this script with sbatch (it is a job array)}"',
    '# Override in the environment when FreezeLab lives elsewhere on the compute nodes.',
    `FREEZELAB_NODE="\${FREEZELAB_NODE:-${input.node.replace(/["\\$`]/g, '\\$&')}}"`,
    `FREEZELAB_JS="\${FREEZELAB_JS:-${input.script.replace(/["\\$`]/g, '\\$&')}}"`,
    'echo "FreezeLab task $TASK of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname)"',
    'exec "$FREEZELAB_NODE" "$FREEZELAB_JS" train --config "$SWEEP_DIR/tasks/$TASK/config.json" \\',
    '  --home "$SWEEP_DIR/tasks/$TASK" --db "$SWEEP_DIR/tasks/$TASK/freezelab.db"',
    '',
  ].join('\n');
}
