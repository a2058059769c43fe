/**
 * One training step's forward and backward passes on one model: the frozen prefix outside the
 * gradient tape, the rest inside it, the batch split into micro-batches when it does not fit the
 * backend's memory. Shared by the in-process trainer (one worker) and each data-parallel replica,
 * which differ only in where the gradients go (see {@link GradSink}).
 */
import * as tf from '@tensorflow/tfjs';
import type { YoloModel } from '../model/forward.js';
import { BN_MOMENTUM } from '../model/kernels.js';
import { computeLoss, lossNormFor, type LossContext, type LossNorm } from './loss.js';

/** What a step needs of the model being trained. */
export interface StepModel {
  readonly model: YoloModel;
  /** First module the backward pass reaches; modules before it run outside the gradient tape. */
  readonly firstTrainable: number;
  /** Module indices whose BatchNorm stays in eval mode. */
  readonly bnEvalModules: ReadonlySet<number>;
  readonly trainableVars: readonly tf.Variable[];
  readonly lossContext: LossContext;
}

/** A batch (or a shard of one): NHWC float32 images and target rows [image, class, cx, cy, w, h]. */
export interface StepBatch {
  readonly images: Float32Array;
  readonly shape: readonly number[];
  readonly targets: Float32Array;
}

/** Loss terms of a step as numbers: `total` is YOLOv5's batch loss, the others its per-image items. */
export interface StepLosses {
  total: number;
  box: number;
  obj: number;
  cls: number;
}

/** Receives each forward/backward pass's gradients (keyed by variable name); the caller disposes them after. */
export type GradSink = (grads: tf.NamedTensorMap) => void;

/**
 * Live tensor bytes a step may use, all replicas together. WASM memory stops at 4 GiB per
 * replica: this keeps one replica well under it (weights, EMA, optimizer and fragmentation need
 * the rest), and several replicas share it, so adding workers adds speed, not memory.
 */
const STEP_MEMORY_BUDGET = 2.4e9;

/**
 * Images per forward/backward pass. On backends with a hard memory ceiling (WASM, 4 GiB) a batch
 * that would not fit is split into micro-batches whose gradients are summed, so the optimizer
 * still sees the whole batch (YOLOv5 itself accumulates to a nominal 64). The loss of each
 * micro-batch is its exact share of the batch's (see {@link LossNorm}); what changes is that
 * BatchNorm normalises with each micro-batch's statistics, as on several GPUs without SyncBN.
 * Running statistics still move once per batch: see {@link microBatchMomentum}. Measured with
 * tf.profile on two images of `batch`; the probe leaves the model as it found it. `replicas`
 * replicas share the memory budget.
 */
export async function chooseMicroBatch(m: StepModel, batch: StepBatch, replicas = 1): Promise<number> {
  const size = batch.shape[0] ?? 1;
  if (tf.getBackend() !== 'wasm' || size <= 2) return size;
  const probe = Math.min(2, size);
  const [, h, w, c] = batch.shape as [number, number, number, number];
  const before = tf.memory().numBytes;
  // The probe is not training: BatchNorm running statistics and counters are put back after it.
  const buffers = [...m.model.buffers.values()].map((t) => [t.variable, tf.clone(t.variable)] as const);
  const counters = new Map(m.model.counters);
  const info = await tf.profile(() => {
    trainChunk(
      m,
      {
        images: batch.images.subarray(0, probe * h * w * c),
        shape: [probe, h, w, c],
        targets: chunkTargets(batch.targets, 0, probe),
      },
      () => undefined, // the probe's gradients are not part of training
    );
    return [];
  });
  for (const [variable, copy] of buffers) {
    variable.assign(copy);
    copy.dispose();
  }
  for (const [name, value] of counters) m.model.counters.set(name, value);
  const perImage = Math.max(1, (info.peakBytes - before) / probe);
  return Math.max(1, Math.min(size, Math.floor(STEP_MEMORY_BUDGET / replicas / perImage)));
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

/** Images [from, from + n) of a batch, with their targets re-indexed from 0. */
export function sliceBatch(batch: StepBatch, from: number, n: number): StepBatch {
  const [, h, w, c] = batch.shape as [number, number, number, number];
  const plane = h * w * c;
  return {
    images: batch.images.subarray(from * plane, (from + n) * plane),
    shape: [n, h, w, c],
    targets: chunkTargets(batch.targets, from, n),
  };
}

/** Options of {@link trainStep}. */
export interface StepOptions {
  /** Images per forward/backward pass (the batch in one pass when it is at least the batch). */
  readonly micro: number;
  /** The whole batch's normalisers when `batch` is a shard of a larger one. */
  readonly norm?: LossNorm;
  /** BatchNorm running-statistics momentum for this step's passes (a shard's share of the batch). */
  readonly bnMomentum?: number;
}

/**
 * One batch (or shard), in micro-batches of at most `opts.micro` images. The losses are the
 * batch's as YOLOv5 logs them; with `opts.norm` they are this shard's share of the whole batch's.
 */
export function trainStep(m: StepModel, batch: StepBatch, sink: GradSink, opts: StepOptions): StepLosses {
  const b = batch.shape[0] ?? 1;
  if (opts.micro >= b) return trainChunk(m, batch, sink, opts.norm, opts.bnMomentum);
  const parts = Math.ceil(b / opts.micro);
  const [, h, w] = batch.shape as [number, number, number, number];
  // Every micro-batch takes its share of the whole batch's loss, so their gradients add up to it.
  const norm = opts.norm ?? lossNormFor(batch.targets, [b, h, w], m.lossContext);
  const bnMomentum = microBatchMomentum(parts, opts.bnMomentum ?? BN_MOMENTUM);
  const sum: StepLosses = { total: 0, box: 0, obj: 0, cls: 0 };
  for (let from = 0; from < b; from += opts.micro) {
    const l = trainChunk(m, sliceBatch(batch, from, Math.min(opts.micro, b - from)), sink, norm, bnMomentum);
    sum.total += l.total;
    sum.box += l.box;
    sum.obj += l.obj;
    sum.cls += l.cls;
  }
  return sum;
}

/**
 * One forward/backward pass: the frozen prefix outside the tape, the rest inside; gradients go
 * to `sink`. Returns the loss terms as numbers (one read-back per pass).
 */
export function trainChunk(
  m: StepModel,
  batch: StepBatch,
  sink: GradSink,
  norm?: LossNorm,
  bnMomentum?: number,
): StepLosses {
  const { model } = m;
  const opts = { training: true, bnEvalModules: m.bnEvalModules, ...(bnMomentum !== undefined ? { bnMomentum } : {}) };
  const x = tf.tensor4d(batch.images, batch.shape as [number, number, number, number]);
  const prefix = m.firstTrainable > 0 ? model.runPrefix(x, m.firstTrainable, opts) : model.begin(x);
  let parts: tf.Scalar[] = [];
  try {
    const { value, grads } = tf.variableGrads(() => {
      const state = model.runModules(prefix, m.firstTrainable, model.graph.modules.length, opts);
      if (!state.raws) throw new Error('the model graph has no Detect module');
      const loss = computeLoss(state.raws, batch.targets, m.lossContext, norm);
      parts = [tf.keep(loss.lbox), tf.keep(loss.lobj), tf.keep(loss.lcls)];
      return loss.total;
    }, [...m.trainableVars]);
    try {
      sink(grads);
    } finally {
      tf.dispose(grads);
    }
    const total = value.dataSync()[0] ?? NaN;
    const [box, obj, cls] = parts.map((p) => p.dataSync()[0] ?? NaN);
    value.dispose();
    // YOLOv5 logs the per-image loss terms (loss_items = loss / batch before the batch scaling).
    return { total, box: box ?? NaN, obj: obj ?? NaN, cls: cls ?? NaN };
  } finally {
    tf.dispose(parts);
    if (m.firstTrainable > 0) model.disposeState(prefix);
    x.dispose();
  }
}
