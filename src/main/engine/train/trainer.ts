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
import type { TrainConfig } from '../../../shared/train-config.js';
import { validate } from '../eval/validate.js';
import { anchorPixelLevels } from '../model/anchors.js';
import { BN_MOMENTUM } from '../model/kernels.js';
import { modelYamlToObject } from '../model/source.js';
import { saveCheckpoint, type CheckpointMeta } from '../weights/index.js';
import { computeLoss, lossContextFromModel } from './loss.js';
import { setupTraining, type TrainSetup } from './setup.js';
import { CHECKPOINT_FILES, loadTrainState, saveTrainState, type TrainState } from './state.js';

/** Raised when the signal aborts: the run stopped at a batch boundary on request. */
export class TrainingStopped extends Error {
  constructor() {
    super('Training was stopped on request.');
    this.name = 'TrainingStopped';
  }
}

/** The loss became NaN or infinite: the run cannot go on. */
export class NonFiniteLossError extends Error {
  constructor(epoch: number, batch: number, value: number) {
    super(
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
}

export interface TrainOutcome {
  readonly epochs: readonly EpochMetrics[];
  readonly best: { readonly epoch: number; readonly fitness: number };
  /** One line for the run's status. */
  readonly summary: string;
}

export async function runTraining(config: TrainConfig, hooks: TrainHooks): Promise<TrainOutcome> {
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

async function trainLoop(
  config: TrainConfig,
  s: TrainSetup,
  hooks: TrainHooks,
  state: TrainState | undefined,
): Promise<TrainOutcome> {
  const { model, loader, optimizer, schedule, ema } = s;
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
  let bestResult: EvalResult | undefined;
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
      micro ??= await chooseMicroBatch(s, batch);
      const chunk = micro;
      if (chunk < batch.shape[0] && !microNoted) {
        microNoted = true;
        hooks.onWarning?.(
          `A batch of ${batch.shape[0]} at ${batch.shape[1]}x${batch.shape[2]} does not fit the ${tf.getBackend()} backend's memory at once: ` +
            `it runs as micro-batches of ${chunk} with summed gradients (BatchNorm normalises each micro-batch with its own statistics; running statistics move once per batch).`,
        );
      }
      const it = schedule.settings(epoch, i);
      lr = it.lr;
      // Live tensor bytes peak inside a step (during the backward pass), between any two samples a
      // timer could take: measure one step per epoch exactly with tf.profile (the second, when
      // there is one, as the first pays for one-off kernel set-up).
      let losses: StepLosses;
      if (i === Math.min(1, nb - 1)) {
        let measured: StepLosses | undefined;
        const info = await tf.profile(() => {
          measured = trainStep(s, batch.images, batch.shape, batch.targets, chunk);
          return [];
        });
        peakTensorBytes = Math.max(peakTensorBytes, info.peakBytes);
        if (!measured) throw new Error('training step did not run');
        losses = measured;
      } else {
        losses = trainStep(s, batch.images, batch.shape, batch.targets, chunk);
      }
      const bad = [losses.total, losses.box, losses.obj, losses.cls].find((v) => !Number.isFinite(v));
      if (bad !== undefined) throw new NonFiniteLossError(epoch, i, bad);
      if (schedule.shouldStep(it)) {
        optimizer.step({ lr: it.lr, momentum: it.momentum });
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
    const result = await validate(ema.model, {
      data: s.data,
      images: s.valImages,
      imgSize: config.imgSize,
      batchSize: Math.min(config.batch * 2, 64),
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

interface StepLosses {
  total: number;
  box: number;
  obj: number;
  cls: number;
}

/** WASM memory stops at 4 GiB; keep a step's live tensors well under it (weights, EMA, optimizer and fragmentation need the rest). */
const STEP_MEMORY_BUDGET = 2.4e9;

/**
 * Images per forward/backward pass. On backends with a hard memory ceiling (WASM, 4 GiB) a batch
 * that would not fit is split into micro-batches whose gradients are summed before the optimizer
 * step, so the optimizer still sees the whole batch (YOLOv5 itself accumulates to a nominal 64).
 * What changes: BatchNorm normalises with each micro-batch's statistics (as on several GPUs
 * without SyncBN), and the box/class loss terms average over each micro-batch's own targets.
 * Running statistics still move once per batch: see {@link microBatchMomentum}. Measured with
 * tf.profile on two images of the first batch.
 */
async function chooseMicroBatch(
  s: TrainSetup,
  batch: { images: Float32Array; shape: readonly number[]; targets: Float32Array },
): Promise<number> {
  const size = batch.shape[0] ?? 1;
  if (tf.getBackend() !== 'wasm' || size <= 2) return size;
  const probe = Math.min(2, size);
  const [, h, w, c] = batch.shape as [number, number, number, number];
  const before = tf.memory().numBytes;
  // The probe is not training: BatchNorm running statistics and counters are put back after it.
  const buffers = [...s.model.buffers.values()].map((t) => [t.variable, tf.clone(t.variable)] as const);
  const counters = new Map(s.model.counters);
  const pending = s.optimizer.exportPending();
  const info = await tf.profile(() => {
    trainChunk(s, batch.images.subarray(0, probe * h * w * c), [probe, h, w, c], chunkTargets(batch.targets, 0, probe));
    return [];
  });
  s.optimizer.importPending(pending); // the probe's gradients are not part of training
  for (const [variable, copy] of buffers) {
    variable.assign(copy);
    copy.dispose();
  }
  for (const [name, value] of counters) s.model.counters.set(name, value);
  const perImage = Math.max(1, (info.peakBytes - before) / probe);
  return Math.max(1, Math.min(size, Math.floor(STEP_MEMORY_BUDGET / perImage)));
}

/**
 * BatchNorm momentum per micro-batch so that the k micro-batches of a batch move the running
 * statistics as much as one update of the whole batch would: (1 - m')^k = 1 - m. Without it, a
 * batch in k parts would pull the running statistics towards augmented batches k times as fast.
 */
export function microBatchMomentum(parts: number, momentum = BN_MOMENTUM): number {
  return parts <= 1 ? momentum : 1 - (1 - momentum) ** (1 / parts);
}

/** Target rows of images [from, from + n), re-indexed from 0. */
export function chunkTargets(targets: Float32Array, from: number, n: number): Float32Array {
  const rows: number[] = [];
  for (let r = 0; r + 6 <= targets.length; r += 6) {
    const img = targets[r] ?? -1;
    if (img >= from && img < from + n) rows.push(img - from, ...targets.subarray(r + 1, r + 6));
  }
  return Float32Array.from(rows);
}

/** One batch, in micro-batches of at most `micro` images; loss terms are per-batch as YOLOv5 logs them. */
function trainStep(
  s: TrainSetup,
  images: Float32Array,
  shape: readonly number[],
  targets: Float32Array,
  micro: number,
): StepLosses {
  const [b, h, w, c] = shape as [number, number, number, number];
  if (micro >= b) return trainChunk(s, images, shape, targets);
  const bnMomentum = microBatchMomentum(Math.ceil(b / micro));
  const sum: StepLosses = { total: 0, box: 0, obj: 0, cls: 0 };
  for (let from = 0; from < b; from += micro) {
    const n = Math.min(micro, b - from);
    const l = trainChunk(
      s,
      images.subarray(from * h * w * c, (from + n) * h * w * c),
      [n, h, w, c],
      chunkTargets(targets, from, n),
      bnMomentum,
    );
    sum.total += l.total;
    sum.box += (l.box * n) / b;
    sum.obj += (l.obj * n) / b;
    sum.cls += (l.cls * n) / b;
  }
  return sum;
}

/**
 * One forward/backward pass: the frozen prefix outside the tape, the rest inside; gradients go
 * to the optimizer's accumulation. Returns the loss terms as numbers (one read-back per batch).
 */
function trainChunk(
  s: TrainSetup,
  images: Float32Array,
  shape: readonly number[],
  targets: Float32Array,
  bnMomentum?: number,
): StepLosses {
  const { model } = s;
  const opts = { training: true, bnEvalModules: s.bnEvalModules, ...(bnMomentum !== undefined ? { bnMomentum } : {}) };
  const x = tf.tensor4d(images, shape as [number, number, number, number]);
  const prefix = s.firstTrainable > 0 ? model.runPrefix(x, s.firstTrainable, opts) : model.begin(x);
  let parts: tf.Scalar[] = [];
  try {
    const { value, grads } = tf.variableGrads(() => {
      const state = model.runModules(prefix, s.firstTrainable, model.graph.modules.length, opts);
      if (!state.raws) throw new Error('the model graph has no Detect module');
      const loss = computeLoss(state.raws, targets, s.lossContext);
      parts = [tf.keep(loss.lbox), tf.keep(loss.lobj), tf.keep(loss.lcls)];
      return loss.total;
    }, s.trainableVars);
    s.optimizer.accumulate(grads);
    const total = value.dataSync()[0] ?? NaN;
    const [box, obj, cls] = parts.map((p) => p.dataSync()[0] ?? NaN);
    value.dispose();
    tf.dispose(grads);
    // YOLOv5 logs the per-image loss terms (loss_items = loss / batch before the batch scaling).
    return { total, box: box ?? NaN, obj: obj ?? NaN, cls: cls ?? NaN };
  } finally {
    tf.dispose(parts);
    if (s.firstTrainable > 0) model.disposeState(prefix);
    x.dispose();
  }
}
