/** Sweeps on a Slurm cluster: submit, a task's own work, state refresh, import, cancel. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Handlers } from '../../../shared/contract.js';
import type { clusterCommands } from '../../../shared/commands/cluster.js';
import { FreezeLabError } from '../../../shared/result.js';
import { isResumable, type RunStatus } from '../../../shared/runs.js';
import { expandSweep } from '../../../shared/train-config.js';
import { applyClusterStates, askSlurm, importSweep, shardRunsOf } from '../../cluster/import.js';
import { logPath, shardPath, TASK_FILE_KIND } from '../../cluster/script.js';
import { defaultFreezelabScript, scriptOf, submitSweep, type SweepPlan, type TaskFile } from '../../cluster/submit.js';
import {
  addClusterJob,
  clusterJobs,
  createRun,
  createSweep,
  getRunRecord,
  LATEST_SCHEMA_VERSION,
  runIdByUuid,
  setClusterState,
  setRunStatus,
  sweepIdByUuid,
} from '../../store/index.js';
import type { ServiceContext } from '../service.js';
import { newRun } from './runs.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof clusterCommands>;

const taskFileSchema = z.object({
  kind: z.literal(TASK_FILE_KIND),
  schemaVersion: z.number().int(),
  task: z.number().int().min(0),
  sweep: z.object({ uuid: z.string().uuid(), name: z.string(), config: z.unknown(), createdAt: z.number() }),
  run: z.object({ uuid: z.string().uuid(), newRun: z.record(z.string(), z.unknown()) }),
});

function readTaskFile(file: string): TaskFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new FreezeLabError('not-found', `The task config ${file} cannot be read: ${(error as Error).message}.`);
  }
  const parsed = taskFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new FreezeLabError('bad-file', `${file} is not a FreezeLab task config: ${parsed.error.issues[0]?.message}.`);
  }
  if (parsed.data.schemaVersion !== LATEST_SCHEMA_VERSION) {
    throw new FreezeLabError(
      'bad-file',
      `${file} was written by a FreezeLab of schema ${parsed.data.schemaVersion}; this one is schema ${LATEST_SCHEMA_VERSION}.`,
      'Install the same FreezeLab version on the cluster as where the sweep was submitted.',
    );
  }
  return parsed.data as unknown as TaskFile;
}

const emitStatus = (ctx: ServiceContext) => (runId: number, status: RunStatus, reason: string | null) =>
  ctx.events.emit('run.status', { runId, status, reason });

export const clusterHandlers: AreaHandlers = {
  async 'cluster.submit'(input, ctx) {
    const { sweep: request, slurm } = input;
    // Each task has the CPUs Slurm gives it: one training worker per CPU unless --workers says otherwise.
    const configs = expandSweep(request).map((c) => ({ ...c, workers: c.workers ?? slurm.cpusPerRun }));
    const runs = await Promise.all(configs.map((c) => newRun(c, null)));
    const sweepUuid = randomUUID();
    const dir = path.resolve(input.dir ?? path.join(ctx.paths.dataDir, 'sweeps', `sweep-${sweepUuid.slice(0, 8)}`));
    const name = request.name ?? `sweep of ${request.freezes.join(', ')}`;
    const plan: SweepPlan = {
      dir,
      sweep: { uuid: sweepUuid, name, config: request, createdAt: Date.now() },
      runs: runs.map((r) => ({ uuid: randomUUID(), newRun: r })),
      slurm,
      node: input.freezelab?.node ?? process.execPath,
      script: input.freezelab?.script ?? defaultFreezelabScript(),
    };
    let script: string;
    try {
      script = scriptOf(plan);
    } catch (error) {
      throw new FreezeLabError('invalid-input', `Cannot write the Slurm script: ${(error as Error).message}.`);
    }
    if (input.dryRun) return { sweepId: null, dir, jobId: null, runIds: [], script };
    const jobId = await submitSweep(plan);
    const db = ctx.store();
    const ids = db.transaction(() => {
      const sweep = createSweep(db, { name, config: request, uuid: sweepUuid }, plan.sweep.createdAt);
      const runIds = plan.runs.map((r, task) => {
        const run = createRun(db, { ...r.newRun, sweepId: sweep.id }, Date.now(), { uuid: r.uuid });
        addClusterJob(db, {
          runId: run.id,
          scheduler: 'slurm',
          jobId,
          arrayTask: task,
          sweepDir: dir,
          shardPath: shardPath(dir, task),
          logPath: logPath(dir, task, 'err'),
          state: 'pending',
          reason: slurm.hold ? 'held' : null,
        });
        setClusterState(db, run.id, {
          state: 'pending',
          reason: slurm.hold ? 'held' : null,
          exitCode: null,
          status: 'queued',
          statusReason: `Queued on Slurm (job ${jobId}_${task})${slurm.hold ? ', held' : ''}.`,
        });
        return run.id;
      });
      return { sweepId: sweep.id, runIds };
    })();
    for (const runId of ids.runIds) ctx.events.emit('run.status', { runId, status: 'queued', reason: null });
    return { ...ids, dir, jobId, script };
  },

  async 'cluster.task'(input, ctx) {
    const file = path.resolve(input.config);
    const task = readTaskFile(file);
    const db = ctx.store();
    const runId = db.transaction(() => {
      const sweepId =
        sweepIdByUuid(db, task.sweep.uuid) ??
        createSweep(
          db,
          { name: task.sweep.name, config: task.sweep.config, uuid: task.sweep.uuid },
          task.sweep.createdAt,
        ).id;
      const existing = runIdByUuid(db, task.run.uuid);
      if (existing === undefined)
        return createRun(db, { ...task.run.newRun, sweepId }, Date.now(), { uuid: task.run.uuid }).id;
      // Slurm ran the task again (requeued, preempted): go on from the last epoch.
      const run = getRunRecord(db, existing);
      if (isResumable(run.status)) {
        setRunStatus(db, existing, 'queued', {
          reason: `Resuming after epoch ${run.lastEpochDone + 1} (task started again).`,
        });
      }
      return existing;
    })();
    ctx.events.emit('run.status', { runId, status: getRunRecord(db, runId).status, reason: null });
    ctx.runner()?.pump();
    return { runId };
  },

  async 'cluster.refresh'(_input, ctx) {
    const db = ctx.store();
    const unfinished = clusterJobs(db, { unfinished: true });
    for (const dir of new Set(unfinished.map((j) => j.sweepDir))) {
      if (fs.existsSync(dir)) {
        await importSweep(db, dir, { runsDir: ctx.paths.runsDir, onStatus: emitStatus(ctx) });
      }
    }
    // Runs whose sweep folder is not reachable from here: Slurm's word only.
    const away = unfinished.filter((j) => !fs.existsSync(j.sweepDir));
    if (away.length > 0) {
      await applyClusterStates(
        db,
        away.map((j) => j.runId),
        shardRunsOf(db, []),
        askSlurm,
        emitStatus(ctx),
      );
    }
    return clusterJobs(db);
  },

  async 'cluster.jobs'(_input, ctx) {
    return clusterJobs(ctx.store());
  },

  async 'cluster.import'(input, ctx) {
    return importSweep(ctx.store(), input.path, { runsDir: ctx.paths.runsDir, onStatus: emitStatus(ctx) });
  },
};
