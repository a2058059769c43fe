/**
 * The training loop: YOLOv5 train.py v7.0 on TensorFlow.js, with the frozen prefix run outside
 * the gradient tape. One call trains one run from its config, reporting through hooks; the worker
 * process records what the hooks receive. Cancellation (an AbortSignal) stops at a batch boundary.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RunProgress } from '../../../shared/contract.js';
import type { ClassMetrics, EvalResult } from '../../../shared/metrics.js';
import type { EpochRecord } from '../../../shared/runs.js';
import type { ResolvedTrainConfig, TrainConfig } from '../../../shared/train-config.js';
import { validate } from '../eval/validate.js';
import { anchorPixelLevels } from '../model/anchors.js';
import { modelYamlToObject } from '../model/source.js';
import { DataParallel } from '../parallel/data-parallel.js';
import type { ReplicaPool } from '../parallel/pool.js';
import { saveCheckpoint, type CheckpointMeta } from '../weights/index.js';
import { lossContextFromModel } from './loss.js';
import { setupTraining, type TrainSetup } from './setup.js';
import { CHECKPOINT_FILES, loadTrainState, saveTrainState, type TrainState } from './state.js';
import { chooseMicroBatch, trainStep, type StepBatch, type StepLosses } from './step.js';
import { FreezeLabError } from '../../../shared/result.js';

/** Raised when the signal aborts: the run stopped at a batch boundary on request. */
export class TrainingStopped extends Error {
  constructor() {
    super('Training was stopped on request.');
    this.name = 'TrainingStopped';
  }
}

/** The loss became NaN or infinite: the run cannot go on. */
export class NonFiniteLossError extends FreezeLabError {
  constructor(epoch: number, batch: number, value: number) {
    super(
      'conflict',
      `The loss became ${value} at epoch ${epoch}, batch ${batch}: training diverged. ` +
        'Lower lr0 (e.g. --hyp finetune), check the labels with "freezelab check", or use a smaller batch.',
    );
    this.name = 'NonFiniteLossError';
  }
}

/** An epoch as the trainer measures it; the worker adds RSS and GPU peaks from its sampler. */
export type EpochMetrics = Omit<EpochRecord, 'peakRssBytes' | 'peakGpuMemBytes'>;

export interface TrainHooks {
  /** The run's folder (checkpoints). */
  readonly runDir: string;
  /** Continue from `last-state.safetensors` in runDir when it exists. */
  readonly resume: boolean;
  readonly signal?: AbortSignal;
  /** Images per forward/backward pass (default: measured, see chooseMicroBatch). */
  readonly microBatch?: number;
  onModel?(info: { frozenModules: readonly number[]; trainableParams: number; totalParams: number }): void;
  onProgress?(progress: Omit<RunProgress, 'runId'>): void;
  onEpoch?(epoch: EpochMetrics, perClass: readonly ClassMetrics[], result: EvalResult): void;
  onCheckpoint?(kind: 'best' | 'last', file: string, epoch: number): Promise<void> | void;
  onFinalEvaluation?(result: EvalResult, weights: 'best' | 'last'): void;
  onWarning?(message: string): void;
  /** A fact about the run worth keeping with it (e.g. AutoAnchor found the anchors fit). */
  onInfo?(message: string): void;
  /** The replica threads of a data-parallel run, once started (diagnostics and tests). */
  onWorkers?(pool: ReplicaPool): void;
}

export interface TrainOutcome {
  readonly epochs: readonly EpochMetrics[];
  readonly best: { readonly epoch: number; readonly fitness: number };
  /** One line for the run's status. */
  readonly summary: string;
}

/** Trains one run: a queued run's resolved config (its frozen modules fixed when queued), or a plain one. */
export async function runTraining(config: TrainConfig | ResolvedTrainConfig, hooks: TrainHooks): Promise<TrainOutcome> {
  const progress = (p: Omit<RunProgress, 'runId'>) => hooks.onProgress?.(p);
  progress({
    phase: 'setup',
    epoch: 0,
    epochs: config.epochs,
    batch: 0,
    batches: 0,
    message: 'Loading data and model',
  });
  const state = hooks.resume ? await loadTrainState(hooks.runDir) : undefined;
  const setup = await setupTraining(config, {
    resuming: state !== undefined,
    onWarning: (m) => hooks.onWarning?.(m),
    onInfo: (m) => hooks.onInfo?.(m),
  });
  try {
    return await trainLoop(config, setup, hooks, state);
  } finally {
    setup.dispose();
  }
}

/** Runs a batch's passes here (one worker) or over replica threads, and says which. */
interface Stepper {
  readonly parallel?: DataParallel;
  chooseMicroBatch(batch: StepBatch): Promise<number>;
  step(batch: StepBatch, micro: number, profile: boolean): Promise<{ losses: StepLosses; peakBytes: number }>;
}

function localStepper(s: TrainSetup): Stepper {
  const sink = (grads: tf.NamedTensorMap) => s.optimizer.accumulate(grads);
  return {
    chooseMicroBatch: (batch) => chooseMicroBatch(s, batch),
    async step(batch, micro, profile) {
      if (!profile) return { losses: trainStep(s, batch, sink, { micro }), peakBytes: 0 };
      // Live tensor bytes peak inside a step (during the backward pass), between any two samples
      // a timer could take: tf.profile measures it exactly.
      let measured: StepLosses | undefined;
      const info = await tf.profile(() => {
        measured = trainStep(s, batch, sink, { micro });
        return [];
      });
      if (!measured) throw new Error('training step did not run');
      return { losses: measured, peakBytes: info.peakBytes };
    },
  };
}

function parallelStepper(dp: DataParallel): Stepper {
  return {
    parallel: dp,
    chooseMicroBatch: (batch) => dp.chooseMicroBatch(batch),
    async step(batch, micro, profile) {
      const r = await dp.step(batch, micro, profile);
      // The replicas' peaks plus what this thread holds (weights, EMA, optimizer state).
      return profile ? { losses: r.losses, peakBytes: r.peakBytes + tf.memory().numBytes } : r;
    },
  };
}

async function trainLoop(
  config: TrainConfig,
  s: TrainSetup,
  hooks: TrainHooks,
  state: TrainState | undefined,
): Promise<TrainOutcome> {
  const { model, optimizer, schedule, ema } = s;
  hooks.onModel?.({ frozenModules: s.frozenModules, trainableParams: s.trainableParams, totalParams: s.totalParams });
  await mkdir(hooks.runDir, { recursive: true });
  const meta = (epoch: number, extra: Record<string, unknown> = {}): CheckpointMeta => ({
    // The anchors of the saved (EMA) weights: AutoAnchor may have replaced the YAML's.
    yaml: modelYamlToObject({ ...s.source.yaml, anchors: anchorPixelLevels(ema.model) }, model.graph.nc),
    names: [...s.data.names],
    epoch,
    freeze: config.freeze,
    hyp: { ...s.hyp.hyp },
    extra: { config, ...extra },
  });

  let startEpoch = 0;
  let best = { epoch: -1, fitness: -Infinity };
  if (state) {
    model.loadTensors(state.model, { source: CHECKPOINT_FILES.state });
    ema.importState({ updates: state.emaUpdates, tensors: state.ema });
    optimizer.importState({ steps: state.optimizerSteps, momentum: state.momentum });
    optimizer.importPending(state.pending);
    schedule.resetStepCounter(state.lastOptStep);
    startEpoch = state.epoch + 1;
    best = { epoch: state.bestEpoch, fitness: state.bestFitness };
    // The saved state holds the anchors the run trained with (AutoAnchor's, when it replaced them).
    s.lossContext = lossContextFromModel(model, s.scaledHyp);
  }

  const { workers, note } = resolveWorkers(config, tf.getBackend());
  if (note) hooks.onInfo?.(note);
  let stepper = localStepper(s);
  if (workers > 1) {
    const dp = await DataParallel.start(
      { ...s, yaml: modelYamlToObject({ ...s.source.yaml, anchors: anchorPixelLevels(model) }, model.graph.nc) },
      workers,
      tf.getBackend() === 'cpu' ? 'cpu' : 'wasm',
    );
    stepper = parallelStepper(dp);
    hooks.onWorkers?.(dp.pool);
    hooks.onInfo?.(
      `Trained data-parallel on ${workers} workers (threads with their own model replica): each batch of ${config.batch} ` +
        `is split into ${workers} shards; BatchNorm normalises each shard with its own statistics, as PyTorch DDP without SyncBN.`,
    );
  }
  try {
    return await epochs(config, s, hooks, stepper, { startEpoch, best, meta });
  } finally {
    await stepper.parallel?.close();
  }
}

async function epochs(
  config: TrainConfig,
  s: TrainSetup,
  hooks: TrainHooks,
  stepper: Stepper,
  start: {
    startEpoch: number;
    best: { epoch: number; fitness: number };
    meta: (epoch: number, extra?: Record<string, unknown>) => CheckpointMeta;
  },
): Promise<TrainOutcome> {
  const { model, loader, optimizer, schedule, ema } = s;
  const { startEpoch, meta } = start;
  let best = start.best;
  let bestResult: EvalResult | undefined;
  const dp = stepper.parallel;
  const nb = loader.batchesPerEpoch;
  const history: EpochMetrics[] = [];
  let micro: number | undefined = hooks.microBatch;
  let microNoted = false;
  const timing = { batchMs: 0, batches: 0, valMs: 0, vals: 0 };
  const eta = (epoch: number, batch: number): number => {
    const perBatch = timing.batches ? timing.batchMs / timing.batches : 0;
    const perVal = timing.vals ? timing.valMs / timing.vals : perBatch * 2;
    const batchesLeft = (config.epochs - epoch) * nb - batch;
    return (batchesLeft * perBatch + (config.epochs - epoch) * perVal) / 1000;
  };

  for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
    const epochStart = performance.now();
    const sums = { box: 0, obj: 0, cls: 0 };
    let peakTensorBytes = 0;
    let lr = schedule.settings(epoch, 0).lr;
    let i = 0;
    for await (const batch of loader.epoch(epoch)) {
      if (hooks.signal?.aborted) throw new TrainingStopped();
      const t0 = performance.now();
      micro ??= await stepper.chooseMicroBatch(batch);
      const chunk = micro;
      const shard = Math.ceil(batch.shape[0] / (dp?.size ?? 1));
      if (chunk < shard && !microNoted) {
        microNoted = true;
        const what = dp
          ? `A shard of ${shard} images (a batch of ${batch.shape[0]} over ${dp.size} workers)`
          : `A batch of ${batch.shape[0]}`;
        hooks.onWarning?.(
          `${what} at ${batch.shape[1]}x${batch.shape[2]} does not fit the ${tf.getBackend()} backend's memory at once: ` +
            `it runs as micro-batches of ${chunk} with summed gradients (BatchNorm normalises each micro-batch with its own statistics; running statistics move once per batch).`,
        );
      }
      const it = schedule.settings(epoch, i);
      lr = it.lr;
      // Measure one step per epoch exactly (the second, when there is one, as the first pays for
      // one-off kernel set-up).
      const { losses, peakBytes } = await stepper.step(batch, chunk, i === Math.min(1, nb - 1));
      peakTensorBytes = Math.max(peakTensorBytes, peakBytes);
      const bad = [losses.total, losses.box, losses.obj, losses.cls].find((v) => !Number.isFinite(v));
      if (bad !== undefined) throw new NonFiniteLossError(epoch, i, bad);
      if (schedule.shouldStep(it)) {
        optimizer.step({ lr: it.lr, momentum: it.momentum });
        dp?.weightsChanged();
        ema.update(model);
      }
      sums.box += losses.box;
      sums.obj += losses.obj;
      sums.cls += losses.cls;
      const ms = performance.now() - t0;
      // The first batches pay for kernel set-up; keep them out of the speed estimate.
      if (i > 0 || epoch > startEpoch) {
        timing.batchMs += ms;
        timing.batches += 1;
      }
      i += 1;
      hooks.onProgress?.({
        phase: 'train',
        epoch,
        epochs: config.epochs,
        batch: i - 1,
        batches: nb,
        losses: { box: sums.box / i, obj: sums.obj / i, cls: sums.cls / i },
        lr: it.lr.weight,
        imagesPerSecond: (batch.shape[0] * 1000) / ms,
        etaSeconds: eta(epoch, i),
      });
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;

    const valStart = performance.now();
    if (dp) await dp.loadEvalWeights(ema.exportTensors());
    const result = await validate(ema.model, {
      ...(dp ? { detector: dp.detector() } : {}),
      data: s.data,
      images: s.valImages,
      imgSize: config.imgSize,
      // val.py's batch (twice training's, at most 64), shared out over the replicas: each holds a
      // part in flight, so their memory stays near what training needs.
      batchSize: Math.ceil(Math.min(config.batch * 2, 64) / (dp?.size ?? 1)),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onProgress: (p) =>
        hooks.onProgress?.({
          phase: 'val',
          epoch,
          epochs: config.epochs,
          batch: p.batch - 1,
          batches: p.batches,
          etaSeconds: eta(epoch + 1, 0),
        }),
    }).catch((error: unknown) => {
      if (hooks.signal?.aborted) throw new TrainingStopped();
      throw error;
    });
    timing.valMs += performance.now() - valStart;
    timing.vals += 1;

    hooks.onProgress?.({ phase: 'save', epoch, epochs: config.epochs, batch: nb - 1, batches: nb });
    const isBest = result.fitness > best.fitness;
    if (isBest) {
      best = { epoch, fitness: result.fitness };
      bestResult = result;
    }
    const extra = { fitness: result.fitness, map50: result.map50, map50_95: result.map50_95 };
    const emaTensors = ema.exportTensors();
    const lastFile = path.join(hooks.runDir, CHECKPOINT_FILES.last);
    await saveCheckpoint(lastFile, emaTensors, meta(epoch, extra));
    await saveTrainState(
      hooks.runDir,
      {
        epoch,
        model: model.exportTensors(),
        ema: emaTensors,
        momentum: optimizer.exportState().momentum,
        pending: optimizer.exportPending(),
        optimizerSteps: optimizer.steps,
        emaUpdates: ema.updates,
        lastOptStep: schedule.lastStep,
        bestFitness: best.fitness,
        bestEpoch: best.epoch,
      },
      meta(epoch, extra),
    );
    await hooks.onCheckpoint?.('last', lastFile, epoch);
    if (isBest) {
      const bestFile = path.join(hooks.runDir, CHECKPOINT_FILES.best);
      await saveCheckpoint(bestFile, emaTensors, meta(epoch, extra));
      await hooks.onCheckpoint?.('best', bestFile, epoch);
    }

    const record: EpochMetrics = {
      epoch,
      boxLoss: sums.box / Math.max(i, 1),
      objLoss: sums.obj / Math.max(i, 1),
      clsLoss: sums.cls / Math.max(i, 1),
      lr: [lr.bias, lr.weight, lr.bn],
      precision: result.precision,
      recall: result.recall,
      map50: result.map50,
      map50_95: result.map50_95,
      fitness: result.fitness,
      seconds: (performance.now() - epochStart) / 1000,
      imagesPerSecond: trainSeconds > 0 ? loader.size / trainSeconds : null,
      peakTensorBytes: Math.max(peakTensorBytes, result.peakTensorBytes),
    };
    history.push(record);
    hooks.onEpoch?.(record, result.perClass, result);
  }

  if (bestResult) hooks.onFinalEvaluation?.(bestResult, 'best');
  const last = history.at(-1);
  const summary = last
    ? `Completed ${config.epochs} epochs: best mAP50-95 ${Math.max(...history.map((h) => h.map50_95 ?? 0)).toFixed(3)} (epoch ${best.epoch + 1} of ${config.epochs}).`
    : `Completed ${config.epochs} epochs.`;
  return { epochs: history, best, summary };
}

export { chunkTargets, microBatchMomentum } from './step.js';

/** Replica threads a run trains on: its config's `workers` (default 1), one on native TensorFlow, at most one per image. */
export function resolveWorkers(config: TrainConfig, backend: string): { workers: number; note?: string } {
  const asked = config.workers ?? 1;
  if (backend !== 'wasm' && backend !== 'cpu') {
    return asked > 1
      ? {
          workers: 1,
          note: `Trained on 1 worker instead of ${asked}: native TensorFlow already uses every core (or the GPU).`,
        }
      : { workers: 1 };
  }
  const workers = Math.min(asked, config.batch);
  return workers < asked
    ? {
        workers,
        note: `Trained on ${workers} workers instead of ${asked}: a batch of ${config.batch} has no image for more.`,
      }
    : { workers };
}
