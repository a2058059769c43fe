/** Writing a sweep folder for Slurm and submitting its array script (see script.ts for the layout). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SlurmOptions } from '../../shared/commands/cluster.js';
import { FreezeLabError } from '../../shared/result.js';
import type { NewRun } from '../../shared/runs.js';
import { LATEST_SCHEMA_VERSION } from '../store/index.js';
import type { SweepFile } from './import.js';
import { arrayScript, SCRIPT_FILE, SWEEP_FILE, TASK_FILE_KIND, taskConfigPath } from './script.js';
import { sbatch } from './slurm.js';

/** A task config: everything `freezelab train --config` needs to create (once) and train its run. */
export interface TaskFile {
  readonly kind: typeof TASK_FILE_KIND;
  readonly schemaVersion: number;
  readonly task: number;
  readonly sweep: {
    readonly uuid: string;
    readonly name: string;
    readonly config: unknown;
    readonly createdAt: number;
  };
  readonly run: { readonly uuid: string; readonly newRun: NewRun };
}

/** bin/freezelab.js of this build (src/main/cluster and dist/main/cluster are both three levels down). */
export function defaultFreezelabScript(): string {
  return fileURLToPath(new URL('../../../bin/freezelab.js', import.meta.url));
}

export interface SweepPlan {
  readonly dir: string;
  readonly sweep: TaskFile['sweep'];
  readonly runs: readonly { readonly uuid: string; readonly newRun: NewRun }[];
  readonly slurm: SlurmOptions;
  readonly node: string;
  readonly script: string;
}

export const scriptOf = (plan: SweepPlan): string =>
  arrayScript({
    dir: plan.dir,
    tasks: plan.runs.length,
    name: plan.sweep.name,
    slurm: plan.slurm,
    node: plan.node,
    script: plan.script,
  });

const writeJson = (file: string, value: unknown): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};

/** Writes the sweep folder (refusing one that is not empty) and returns the script's path. */
export function writeSweepFolder(plan: SweepPlan): string {
  if (fs.existsSync(plan.dir) && fs.readdirSync(plan.dir).length > 0) {
    throw new FreezeLabError(
      'conflict',
      `The sweep folder ${plan.dir} is not empty.`,
      'Give --dir a new folder on the filesystem the cluster nodes share.',
    );
  }
  fs.mkdirSync(path.join(plan.dir, 'logs'), { recursive: true });
  plan.runs.forEach((run, task) => {
    const file: TaskFile = { kind: TASK_FILE_KIND, schemaVersion: LATEST_SCHEMA_VERSION, task, sweep: plan.sweep, run };
    writeJson(taskConfigPath(plan.dir, task), file);
  });
  writeSweepJson(plan, null);
  const script = path.join(plan.dir, SCRIPT_FILE);
  fs.writeFileSync(script, scriptOf(plan), { mode: 0o755 });
  return script;
}

export function writeSweepJson(plan: SweepPlan, jobId: string | null): void {
  const file: SweepFile = {
    kind: 'freezelab-slurm-sweep',
    schemaVersion: LATEST_SCHEMA_VERSION,
    uuid: plan.sweep.uuid,
    name: plan.sweep.name,
    jobId,
    runs: plan.runs.map((r, task) => ({ task, uuid: r.uuid, name: r.newRun.name })),
  };
  writeJson(path.join(plan.dir, SWEEP_FILE), file);
}

/** Writes the folder and submits it; returns the array job id. */
export async function submitSweep(plan: SweepPlan): Promise<string> {
  const script = writeSweepFolder(plan);
  let jobId: string;
  try {
    jobId = await sbatch(script, plan.slurm.hold ? ['--hold'] : []);
  } catch (error) {
    // Nothing was submitted: leave no half sweep behind (the folder was empty or new).
    fs.rmSync(plan.dir, { recursive: true, force: true });
    throw error;
  }
  writeSweepJson(plan, jobId);
  return jobId;
}
