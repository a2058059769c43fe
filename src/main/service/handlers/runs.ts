/** Runs, sweeps and comparisons: queue, inspect, cancel, resume, delete, compare. */
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import {
  comparisonCsv,
  compareGroups,
  DEFAULT_RECOMMEND_OPTIONS,
  groupsCsv,
  type RecommendOptions,
} from '../../../shared/compare.js';
import type { ComparisonResult, Handlers } from '../../../shared/contract.js';
import { formatFreezeSpec, parseFreezeSpec, resolveFreeze } from '../../../shared/freeze.js';
import { sha256File } from '../../files.js';
import { cancelClusterRun } from '../../cluster/cancel.js';
import { resolveModelSource } from '../../engine/model/source.js';
import { defaultWorkerCount } from '../../engine/parallel/pool.js';
import { resolveHyp } from '../../engine/train/hyp.js';
import { requireAnchorSizes } from '../../engine/train/setup.js';
import { CHECKPOINT_FILES } from '../../engine/train/state.js';
import { FreezeLabError } from '../../../shared/result.js';
import { isResumable, RESUMABLE_STATUSES, type Artifact, type NewRun } from '../../../shared/runs.js';
import {
  expandSweep,
  RUN_CONFIG_VERSION,
  runColumnsOf,
  type ResolvedTrainConfig,
  type TrainConfig,
} from '../../../shared/train-config.js';
import {
  artifactsOf,
  clusterJobOf,
  comparisonRows,
  createRun,
  createSweep,
  databaseId,
  deleteRun,
  describeOwner,
  getRun,
  getRunRecord,
  listRuns,
  markInterruptedRuns,
  ownerAlive,
  RunOwnedError,
  runOwner,
  runsOfSweep,
  samplesOf,
  setRunStatus,
  type Db,
} from '../../store/index.js';
import type { ServiceContext } from '../service.js';
import { writeRunExport } from './export.js';
import { datasetFingerprint, weightsDigest } from './fingerprint.js';

type RunHandlers = Pick<
  Handlers<ServiceContext>,
  | 'runs.start'
  | 'sweeps.start'
  | 'runs.list'
  | 'runs.get'
  | 'runs.samples'
  | 'runs.cancel'
  | 'runs.resume'
  | 'runs.delete'
  | 'runs.export'
  | 'runs.compare'
>;

/**
 * Everything about a run that can be known before it trains; files are checked here, not later.
 * The config is parsed once (by the command's schema) and resolved here, once: the freeze spec
 * against the model's graph, recorded as `frozenModules` in the stored config, from which the
 * indexed columns are derived (`runColumnsOf`).
 */
export async function newRun(config: TrainConfig, sweepId: number | null): Promise<NewRun> {
  const spec = parseFreezeSpec(config.freeze);
  const freeze = formatFreezeSpec(spec);
  // Check now what would otherwise fail minutes later in the worker: the model, the freeze spec,
  // and anchors that only AutoAnchor could fill in.
  // The hyp (a preset name or a file) is read now too: an unknown name fails here, not when the run starts.
  const hyp = await resolveHyp(config.hyp);
  const modelSpec = config.model ?? config.weights;
  if (modelSpec === undefined) {
    throw new FreezeLabError('invalid-input', 'Give weights (a .pt or .safetensors file) or a model.');
  }
  const source = await resolveModelSource(modelSpec);
  const frozenModules = resolveFreeze(spec, source.graph.summary);
  if (!config.autoanchor) requireAnchorSizes(source, hyp, false);
  const data = path.resolve(config.data);
  const weights = config.weights ? path.resolve(config.weights) : null;
  // The worker count is decided now and recorded with the run (a resumed run keeps it).
  const workers = config.workers ?? defaultWorkerCount(config.backend);
  const resolved: ResolvedTrainConfig = {
    ...config,
    data,
    freeze,
    workers,
    ...(weights ? { weights } : {}),
    configVersion: RUN_CONFIG_VERSION,
    frozenModules,
  };
  const model = config.model ?? (weights ? path.basename(weights) : 'unknown');
  return {
    name: config.name ?? `${model} · freeze ${freeze}`,
    sweepId,
    config: resolved,
    datasetPath: data,
    datasetFingerprint: await datasetFingerprint(data),
    weightsPath: weights,
    weightsSha256: weights ? await weightsDigest(weights) : null,
    model,
    ...runColumnsOf(resolved),
  };
}

function startQueued(ctx: ServiceContext): void {
  ctx.runner()?.pump();
}

export const runHandlers: RunHandlers = {
  async 'runs.start'(config, ctx) {
    const run = createRun(ctx.store(), await newRun(config, null));
    ctx.events.emit('run.status', { runId: run.id, status: run.status, reason: null });
    startQueued(ctx);
    return { runId: run.id };
  },

  async 'sweeps.start'(request, ctx) {
    const configs = expandSweep(request);
    const runs = await Promise.all(configs.map((c) => newRun(c, null)));
    const db = ctx.store();
    const ids = db.transaction(() => {
      const sweep = createSweep(db, {
        name:
          request.name ??
          `sweep of ${request.freezes.join(', ')}${(request.seeds ?? 1) > 1 ? ` x ${request.seeds} seeds` : ''}`,
        config: request,
      });
      return { sweepId: sweep.id, runIds: runs.map((r) => createRun(db, { ...r, sweepId: sweep.id }).id) };
    })();
    for (const runId of ids.runIds) ctx.events.emit('run.status', { runId, status: 'queued', reason: null });
    startQueued(ctx);
    return ids;
  },

  async 'runs.list'(args, ctx) {
    return args.sweepId !== undefined
      ? runsOfSweep(ctx.store(), args.sweepId)
      : listRuns(ctx.store(), { limit: args.limit });
  },

  async 'runs.get'(args, ctx) {
    return getRun(ctx.store(), args.id);
  },

  async 'runs.samples'(args, ctx) {
    getRunRecord(ctx.store(), args.id);
    return samplesOf(ctx.store(), args.id, { maxPoints: args.maxPoints });
  },

  async 'runs.cancel'(args, ctx) {
    const onCluster = await cancelClusterRun(ctx.store(), args.id, (runId, status, reason) =>
      ctx.events.emit('run.status', { runId, status, reason }),
    ); // a Slurm run: scancel
    if (onCluster) return onCluster;
    const db = ctx.store();
    const run = getRunRecord(db, args.id);
    const runner = ctx.runner();
    if (runner) return { status: runner.cancel(args.id) };
    if (run.status === 'queued') {
      setRunStatus(db, args.id, 'cancelled', { reason: 'Cancelled by the user before it started.' });
      return { status: 'cancelled' };
    }
    throw new FreezeLabError(
      'conflict',
      `Run ${args.id} is ${run.status}${run.pid ? ` in another FreezeLab process (pid ${run.pid})` : ''}.`,
      'Cancel it from the FreezeLab window or server that is running it.',
    );
  },

  async 'runs.resume'(args, ctx) {
    const db = ctx.store();
    const job = clusterJobOf(db, args.id);
    if (job) {
      // This process's queue never trains a cluster run: queued here, it would wait forever.
      throw new FreezeLabError(
        'conflict',
        `Run ${args.id} ran on Slurm (job ${job.jobId}); it cannot be resumed on this machine.`,
        'Submit the sweep again with sweep --slurm (a task Slurm requeues resumes by itself).',
      );
    }
    if (getRunRecord(db, args.id).status === 'running') {
      // A second worker on a live run would fight the first one over its epochs and status.
      const owner = runOwner(db, args.id);
      if (ownerAlive(owner)) throw new RunOwnedError(args.id, describeOwner(owner));
      markInterruptedRuns(db); // its owner is gone: it is interrupted, and so resumable
    }
    const run = getRunRecord(db, args.id);
    if (!isResumable(run.status)) {
      throw new FreezeLabError(
        'conflict',
        `Run ${args.id} is ${run.status}; only ${RESUMABLE_STATUSES.slice(0, -1).join(', ')} or ${RESUMABLE_STATUSES.at(-1)} runs can be resumed.`,
      );
    }
    setRunStatus(db, args.id, 'queued', {
      reason: run.lastEpochDone >= 0 ? `Resuming after epoch ${run.lastEpochDone + 1}.` : 'Starting again.',
    });
    ctx.events.emit('run.status', { runId: args.id, status: 'queued', reason: null });
    startQueued(ctx);
    return { runId: args.id };
  },

  async 'runs.delete'(args, ctx) {
    const db = ctx.store();
    const own = path.join(ctx.paths.runsDir, databaseId(db), String(args.id));
    const artifacts = artifactsOf(db, args.id);
    deleteRun(db, args.id);
    await rm(own, { recursive: true, force: true });
    await removeLegacyFiles(artifacts, own);
    return { deleted: args.id };
  },

  async 'runs.export'(args, ctx) {
    return { files: await writeRunExport(getRun(ctx.store(), args.id), path.resolve(args.dir), args.force) };
  },

  async 'runs.compare'(args, ctx) {
    const { ids, ...options } = args;
    return compareRuns(ctx.store(), ids, options);
  },
};

/**
 * Runs from before schema 4 kept their files in `<runsDir>/<run id>`, a folder another database
 * sharing the data folder may have written over: such a folder is removed only when every
 * checkpoint in it still has the checksum this database recorded (then its training state goes
 * too); otherwise it is the other database's now and is left as it is.
 */
async function removeLegacyFiles(artifacts: readonly Artifact[], ownDir: string): Promise<void> {
  const byDir = new Map<string, Artifact[]>();
  for (const a of artifacts) {
    if (a.kind === 'export' || a.path.startsWith(ownDir + path.sep)) continue;
    byDir.set(path.dirname(a.path), [...(byDir.get(path.dirname(a.path)) ?? []), a]);
  }
  for (const [dir, files] of byDir) {
    const sums = await Promise.all(files.map((a) => sha256File(a.path).catch(() => null)));
    if (!files.every((a, i) => a.sha256 !== null && sums[i] === a.sha256)) continue;
    await Promise.all(files.map((a) => rm(a.path, { force: true })));
    await rm(path.join(dir, CHECKPOINT_FILES.state), { force: true });
    await rmdir(dir).catch(() => undefined); // something else is in it: keep it
  }
}

/** sha256 of a hyp file, so runs with the same file name but other contents do not compare. */
async function hypDigest(hypName: string | null): Promise<string | null> {
  // Bare names are presets (see resolveHyp); only files have contents to hash.
  if (hypName === null || !(/\.ya?ml$/i.test(hypName) || /[\\/]/.test(hypName))) return null;
  // The file as it is now: a file edited after the run can no longer be told from the original.
  return sha256File(path.resolve(hypName)).catch(() => null);
}

export async function compareRuns(
  db: Db,
  ids: readonly number[],
  options: RecommendOptions = DEFAULT_RECOMMEND_OPTIONS,
): Promise<ComparisonResult> {
  const digests = new Map<string, string | null>();
  const rows = await Promise.all(
    comparisonRows(db, ids).map(async (r) => {
      if (r.hypName !== null && !digests.has(r.hypName)) digests.set(r.hypName, await hypDigest(r.hypName));
      return { ...r, hypSha256: r.hypName === null ? null : (digests.get(r.hypName) ?? null) };
    }),
  );
  const grouped = compareGroups(rows, options);
  const runsOf = (groupIds: readonly number[]) =>
    groupIds.flatMap((id) => grouped.groups.find((g) => g.id === id)?.runIds ?? []);
  return {
    rows,
    ...grouped,
    memoryFrontier: grouped.sets.flatMap((s) => runsOf(s.memoryFrontier)),
    timeFrontier: grouped.sets.flatMap((s) => runsOf(s.timeFrontier)),
    csv: comparisonCsv(rows, grouped),
    groupsCsv: groupsCsv(grouped),
  };
}
