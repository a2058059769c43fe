/**
 * The YOLOv5 training loss in TensorFlow.js: follows YOLOv5 v7.0 utils/loss.py ComputeLoss
 * (CIoU box loss with alpha detached, objectness BCE against the detached clamped IoU with gr = 1,
 * per-level balance, class BCE with label smoothing and pos_weight, optional focal loss).
 * Target assignment runs on the host ({@link buildTargets}); predictions are gathered from a
 * flattened view with a gather whose gradient is a scatter, so it works inside tf.variableGrads on
 * backends without UnsortedSegmentSum (wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { detectBlock } from '../model/graph.js';
import type { YoloModel } from '../model/forward.js';
import type { ScaledHyp } from './hyp.js';
import { buildTargets, TargetsError, type LevelShape, type LevelTargets } from './targets.js';

/** The hyper-parameters the loss reads (gains already scaled by {@link scaleHypForModel}). */
export type LossHyp = Pick<
  ScaledHyp,
  'box' | 'obj' | 'cls' | 'cls_pw' | 'obj_pw' | 'anchor_t' | 'fl_gamma' | 'label_smoothing'
>;

/** What the loss needs to know about the model. */
export interface LossContext {
  /** Per level, [na*2] anchor w, h in grid units (Detect's `anchors` buffer, pixels / stride). */
  readonly anchors: readonly Float32Array[];
  /** Per level stride in pixels (informational; assignment works in grid units). */
  readonly strides: readonly number[];
  readonly nc: number;
  readonly hyp: LossHyp;
}

/**
 * Normalisers of a batch that is split into parts (micro-batches, or shards over workers): with
 * them, each part's loss is its exact share of the whole batch's loss, so the parts' losses and
 * gradients add up to the whole batch's (YOLOv5's means are over the whole batch's positives and
 * grid cells). Without them the loss is the part's own, as YOLOv5 computes it for a batch.
 */
export interface LossNorm {
  /** Images in the whole batch. */
  readonly batch: number;
  /** Positives (target-anchor-cell matches) per level in the whole batch. */
  readonly positives: readonly number[];
}

/** Loss terms. `lbox`, `lobj`, `lcls` are gain-weighted; total = (lbox + lobj + lcls) * batch size. */
export interface LossResult {
  readonly total: tf.Scalar;
  readonly lbox: tf.Scalar;
  readonly lobj: tf.Scalar;
  readonly lcls: tf.Scalar;
}

/** Objectness balance per level: ComputeLoss `{3: [4.0, 1.0, 0.4]}.get(nl, [4.0, 1.0, 0.25, 0.06, 0.02])`. */
export function objectnessBalance(nl: number): number[] {
  return nl === 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02];
}

/** Label-smoothed BCE targets: utils/loss.py smooth_BCE, (positive, negative) = (1 - eps/2, eps/2). */
export function smoothBce(eps: number): { cp: number; cn: number } {
  return { cp: 1.0 - 0.5 * eps, cn: 0.5 * eps };
}

/** Builds a {@link LossContext} from a model: anchors read from its Detect `anchors` buffer. */
export function lossContextFromModel(model: YoloModel, hyp: LossHyp): LossContext {
  const det = detectBlock(model.graph);
  const buffer = model.buffers.get(det.anchorsName)?.variable;
  if (!buffer) throw new Error(`lossContextFromModel: the model has no ${det.anchorsName} buffer`);
  const data = buffer.dataSync() as Float32Array;
  const per = det.na * 2;
  const anchors = det.strides.map((_, l) => Float32Array.from(data.subarray(l * per, (l + 1) * per)));
  return { anchors, strides: [...det.strides], nc: det.nc, hyp };
}

/**
 * `fn(x)` with no gradient flowing back into `x` (PyTorch `.detach()`). Ops inside a customGrad
 * forward are not taped, so `fn` may use ops without gradients (gather, scatterND); the upstream
 * ops receive zeros.
 */
export function detached<T extends tf.Tensor>(x: tf.Tensor, fn: (x: tf.Tensor) => T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return { value: fn(input), gradFunc: () => tf.zerosLike(input) };
  });
  return f(x) as T;
}

/** A copy of `x` that no gradient flows through. */
export function detach<T extends tf.Tensor>(x: T): T {
  return detached(x, (t) => tf.clone(t)) as T;
}

/** Rows of a 2-D tensor; the gradient scatters back (summing repeated rows) without UnsortedSegmentSum. */
function gatherRows(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const [nRows, cols] = x.shape;
  const n = rows.length;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.gather(args[0] as tf.Tensor, tf.tensor1d(rows, 'int32')),
    gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(rows, [n, 1], 'int32'), dy, [nRows, cols]),
  }));
  return f(x) as tf.Tensor2D;
}

/** Elementwise BCE-with-logits with pos_weight: (1 - t)x + (1 + (pw - 1)t) softplus(-x). */
function bceWithLogits(x: tf.Tensor, t: tf.Tensor, posWeight: number): tf.Tensor {
  const sp = tf.softplus(tf.neg(x));
  const weight = posWeight === 1 ? sp : tf.mul(tf.add(tf.mul(t, posWeight - 1), 1), sp);
  return tf.add(tf.mul(tf.sub(1, t), x), weight);
}

/**
 * Mean BCE, wrapped in utils/loss.py FocalLoss (alpha 0.25) when gamma > 0; with `count`, the sum
 * divided by `count` (the element count of the whole batch this part belongs to).
 */
function bceMean(x: tf.Tensor, t: tf.Tensor, posWeight: number, gamma: number, count?: number): tf.Scalar {
  let loss = bceWithLogits(x, t, posWeight);
  if (gamma > 0) {
    const p = tf.sigmoid(x);
    const pt = tf.add(tf.mul(t, p), tf.mul(tf.sub(1, t), tf.sub(1, p)));
    const alphaFactor = tf.add(tf.mul(t, 0.25), tf.mul(tf.sub(1, t), 0.75));
    loss = tf.mul(loss, tf.mul(alphaFactor, tf.pow(tf.sub(1, pt), gamma)));
  }
  return count === undefined ? tf.mean(loss) : (tf.div(tf.sum(loss), count) as tf.Scalar);
}

/** `tf.mean(x)`, or its sum over `count` for a part of a batch. */
function meanOver(x: tf.Tensor, count: number | undefined): tf.Scalar {
  return count === undefined ? tf.mean(x) : (tf.div(tf.sum(x), count) as tf.Scalar);
}

/**
 * The whole batch's normalisers for {@link computeLoss} on its parts: positives per level from the
 * same host-side target assignment (it is per image, so parts' counts add up to these).
 * @param shape the batch [b, h, w] in pixels
 */
export function lossNormFor(
  targets: Float32Array,
  shape: readonly [number, number, number],
  ctx: LossContext,
): LossNorm {
  const [b, h, w] = shape;
  const shapes: LevelShape[] = ctx.strides.map((stride, l) => ({
    bs: b,
    na: (ctx.anchors[l]?.length ?? 0) / 2,
    ny: Math.ceil(h / stride),
    nx: Math.ceil(w / stride),
  }));
  const built = buildTargets(targets, shapes, ctx.anchors, ctx.hyp.anchor_t);
  return { batch: b, positives: built.map((l) => l.n) };
}

/**
 * Complete IoU of predicted boxes `b1` [n,4] (xywh, differentiable) against constant targets `b2`
 * [n,4] (xywh): utils/metrics.py bbox_iou(CIoU=True), eps 1e-7, alpha without gradient. Returns [n].
 */
export function bboxCiou(b1: tf.Tensor2D, b2: tf.Tensor2D, eps = 1e-7): tf.Tensor1D {
  const [x1, y1, w1, h1] = tf.split(b1, 4, 1);
  const [x2, y2, w2, h2] = tf.split(b2, 4, 1);
  if (!x1 || !y1 || !w1 || !h1 || !x2 || !y2 || !w2 || !h2) throw new Error('bboxCiou: boxes need 4 columns');
  const hw1 = tf.div(w1, 2);
  const hh1 = tf.div(h1, 2);
  const hw2 = tf.div(w2, 2);
  const hh2 = tf.div(h2, 2);
  const b1x1 = tf.sub(x1, hw1);
  const b1x2 = tf.add(x1, hw1);
  const b1y1 = tf.sub(y1, hh1);
  const b1y2 = tf.add(y1, hh1);
  const b2x1 = tf.sub(x2, hw2);
  const b2x2 = tf.add(x2, hw2);
  const b2y1 = tf.sub(y2, hh2);
  const b2y2 = tf.add(y2, hh2);
  // clamp(0): tf.maximum passes the gradient at the tie like torch.clamp does
  const iw = tf.maximum(tf.sub(tf.minimum(b1x2, b2x2), tf.maximum(b1x1, b2x1)), 0);
  const ih = tf.maximum(tf.sub(tf.minimum(b1y2, b2y2), tf.maximum(b1y1, b2y1)), 0);
  const inter = tf.mul(iw, ih);
  const union = tf.add(tf.sub(tf.add(tf.mul(w1, h1), tf.mul(w2, h2)), inter), eps);
  const iou = tf.div(inter, union);
  const cw = tf.sub(tf.maximum(b1x2, b2x2), tf.minimum(b1x1, b2x1));
  const ch = tf.sub(tf.maximum(b1y2, b2y2), tf.minimum(b1y1, b2y1));
  const c2 = tf.add(tf.add(tf.square(cw), tf.square(ch)), eps);
  const dx = tf.sub(tf.sub(tf.add(b2x1, b2x2), b1x1), b1x2);
  const dy = tf.sub(tf.sub(tf.add(b2y1, b2y2), b1y1), b1y2);
  const rho2 = tf.div(tf.add(tf.square(dx), tf.square(dy)), 4);
  const v = tf.mul(4 / Math.PI ** 2, tf.square(tf.sub(tf.atan(tf.div(w2, h2)), tf.atan(tf.div(w1, h1)))));
  const alpha = detach(tf.div(v, tf.add(tf.sub(v, iou), 1 + eps)));
  const ciou = tf.sub(iou, tf.add(tf.div(rho2, c2), tf.mul(v, alpha)));
  return tf.reshape(ciou, [-1]) as tf.Tensor1D;
}

/**
 * YOLOv5's loss for raw Detect maps `raws` (per level [bs, na, ny, nx, 5+nc]) and `targets`
 * (rows [image, class, cx, cy, w, h], normalised). Usable inside tf.variableGrads; wrap calls in
 * tf.tidy (intermediates are not disposed here).
 */
export function computeLoss(
  raws: readonly tf.Tensor5D[],
  targets: Float32Array,
  ctx: LossContext,
  norm?: LossNorm,
): LossResult {
  const { hyp, nc } = ctx;
  const first = raws[0];
  if (!first) throw new Error('computeLoss: no prediction levels');
  if (raws.length !== ctx.anchors.length) {
    throw new Error(`computeLoss: ${raws.length} prediction levels but ${ctx.anchors.length} anchor levels`);
  }
  const shapes: LevelShape[] = raws.map((r) => {
    const [bs, na, ny, nx, no] = r.shape;
    if (no !== nc + 5) throw new Error(`computeLoss: maps have ${no} channels per anchor, expected ${nc + 5}`);
    return { bs, na, ny, nx };
  });
  for (let t = 1; t < targets.length; t += 6) {
    const c = targets[t] ?? -1;
    if (!(c >= 0 && c < nc)) throw new TargetsError(`target ${(t - 1) / 6}: class ${c} outside 0..${nc - 1}`);
  }
  const built = buildTargets(targets, shapes, ctx.anchors, hyp.anchor_t);
  const balance = objectnessBalance(raws.length);
  const { cp, cn } = smoothBce(hyp.label_smoothing);
  const gamma = hyp.fl_gamma;
  const boxTerms: tf.Scalar[] = [];
  const objTerms: tf.Scalar[] = [];
  const clsTerms: tf.Scalar[] = [];

  raws.forEach((raw, level) => {
    const { bs, na, ny, nx } = shapes[level] as LevelShape;
    const lt = built[level] as LevelTargets;
    const rows = bs * na * ny * nx;
    const flat = tf.reshape(raw, [rows, nc + 5]) as tf.Tensor2D;
    let tobj: tf.Tensor1D;
    if (lt.n > 0) {
      const ps = gatherRows(flat, lt.row);
      const pxy = tf.sub(tf.mul(tf.sigmoid(tf.slice(ps, [0, 0], [lt.n, 2])), 2), 0.5);
      const anchorWh = tf.tensor2d(lt.anchorWh, [lt.n, 2]);
      const pwh = tf.mul(tf.square(tf.mul(tf.sigmoid(tf.slice(ps, [0, 2], [lt.n, 2])), 2)), anchorWh);
      const pbox = tf.concat([pxy, pwh], 1) as tf.Tensor2D;
      const iou = bboxCiou(pbox, tf.tensor2d(lt.tbox, [lt.n, 4]));
      const positives = norm?.positives[level];
      boxTerms.push(meanOver(tf.sub(1, iou), positives));
      tobj = detached(iou, (v) => objectnessTargets(tf.maximum(v, 0) as tf.Tensor1D, lt.row, rows));
      if (nc > 1) {
        const t = new Float32Array(lt.n * nc).fill(cn);
        for (let i = 0; i < lt.n; i++) t[i * nc + (lt.cls[i] ?? 0)] = cp;
        const pcls = tf.slice(ps, [0, 5], [lt.n, nc]);
        const count = positives === undefined ? undefined : positives * nc;
        clsTerms.push(bceMean(pcls, tf.tensor2d(t, [lt.n, nc]), hyp.cls_pw, gamma, count));
      }
    } else {
      tobj = tf.zeros([rows]);
    }
    const pobj = tf.reshape(tf.slice(flat, [0, 4], [rows, 1]), [rows]);
    const cells = norm === undefined ? undefined : norm.batch * na * ny * nx;
    objTerms.push(tf.mul(bceMean(pobj, tobj, hyp.obj_pw, gamma, cells), balance[level] ?? 0));
  });

  const sum = (terms: tf.Scalar[]): tf.Scalar => (terms.length > 0 ? (tf.addN(terms) as tf.Scalar) : tf.scalar(0));
  const lbox = tf.mul(sum(boxTerms), hyp.box) as tf.Scalar;
  const lobj = tf.mul(sum(objTerms), hyp.obj) as tf.Scalar;
  const lcls = tf.mul(sum(clsTerms), hyp.cls) as tf.Scalar;
  const bs = norm?.batch ?? first.shape[0];
  const total = tf.mul(tf.add(tf.add(lbox, lobj), lcls), bs) as tf.Scalar;
  return { total, lbox, lobj, lcls };
}

/**
 * tobj[b, a, gj, gi] = iou as a dense [rows] constant. Where a cell is assigned more than once the
 * last write wins, as in PyTorch's sequential index_put on CPU (scatterND would sum duplicates).
 */
function objectnessTargets(iouDetached: tf.Tensor1D, row: Int32Array, rows: number): tf.Tensor1D {
  const last = new Map<number, number>();
  row.forEach((r, k) => last.set(r, k));
  const cells = Int32Array.from(last.keys());
  const picks = Int32Array.from(last.values());
  const values = tf.gather(iouDetached, tf.tensor1d(picks, 'int32'));
  return tf.scatterND(tf.tensor2d(cells, [cells.length, 1], 'int32'), values, [rows]) as tf.Tensor1D;
}
