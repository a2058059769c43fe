/**
 * The tensor kernels of the YOLOv5 forward pass. `convBnAct` is the one function every
 * Conv -> BatchNorm -> SiLU goes through, so a faster or fused-gradient version can replace it.
 * Follows YOLOv5 models/common.py Conv (padding k//2 on both sides, BatchNorm eps 1e-3).
 */
import * as tf from '@tensorflow/tfjs';
import { addChannelBias } from '../tf/channel.js';

/** YOLOv5 BatchNorm2d settings (models/yolo.py initialize_weights). */
export const BN_EPS = 1e-3;
export const BN_MOMENTUM = 0.03;

/** BatchNorm tensors of one layer. */
export interface BnTensors {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  readonly runningMean: tf.Tensor1D;
  readonly runningVar: tf.Tensor1D;
}

/** Input of a {@link ConvBnActFn}. */
export interface ConvBnActArgs {
  readonly x: tf.Tensor4D;
  /** Filter in HWIO. */
  readonly w: tf.Tensor4D;
  readonly bias?: tf.Tensor1D;
  readonly bn?: BnTensors;
  readonly stride: number;
  /** Symmetric padding (PyTorch style); never tfjs 'same', which pads 0 before / 1 after at stride 2. */
  readonly pad: number;
  /** SiLU after (BatchNorm or bias). */
  readonly act: boolean;
  /** BatchNorm with batch statistics (train mode) instead of running statistics. */
  readonly batchStats: boolean;
  readonly eps: number;
}

/** Output of a {@link ConvBnActFn}: in batch-stats mode also the batch mean and biased variance. */
export interface ConvBnActResult {
  readonly y: tf.Tensor4D;
  readonly batchMean?: tf.Tensor1D;
  readonly batchVar?: tf.Tensor1D;
}

/** Conv2d (+ BatchNorm) (+ SiLU); replaceable, e.g. by a version with a fused custom gradient. */
export type ConvBnActFn = (a: ConvBnActArgs) => ConvBnActResult;

function padding(p: number): tf.backend_util.ExplicitPadding | 'valid' {
  return p === 0
    ? 'valid'
    : [
        [0, 0],
        [p, p],
        [p, p],
        [0, 0],
      ];
}

/** SiLU (x * sigmoid(x)). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/** Default {@link ConvBnActFn}: eval-mode BatchNorm is folded into the filter and a bias. */
export const defaultConvBnAct: ConvBnActFn = (a) => {
  const pad = padding(a.pad);
  if (!a.bn) {
    let y: tf.Tensor4D = tf.conv2d(a.x, a.w, a.stride, pad);
    if (a.bias) y = addChannelBias(y, a.bias);
    return { y: a.act ? silu(y) : y };
  }
  const { gamma, beta, runningMean, runningVar } = a.bn;
  if (!a.batchStats) {
    // y = (conv - mean) * gamma / sqrt(var + eps) + beta = conv(x, w * scale) + shift
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVar, a.eps)));
    const shift = tf.sub(beta, tf.mul(runningMean, scale));
    let y: tf.Tensor4D = tf.conv2d(a.x, tf.mul(a.w, scale) as tf.Tensor4D, a.stride, pad);
    y = tf.add(y, shift);
    return { y: a.act ? silu(y) : y };
  }
  const z = tf.conv2d(a.x, a.w, a.stride, pad);
  const { mean, variance } = tf.moments(z, [0, 1, 2]);
  const batchMean = mean as tf.Tensor1D;
  const batchVar = variance as tf.Tensor1D;
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(batchVar, a.eps)));
  let y: tf.Tensor4D = tf.add(tf.mul(tf.sub(z, batchMean), scale), beta);
  if (a.act) y = silu(y);
  return { y, batchMean, batchVar };
};

/** Standalone BatchNorm (+ SiLU) over channels, as BottleneckCSP's `bn` + `act`. */
export function batchNormAct(x: tf.Tensor4D, bn: BnTensors, batchStats: boolean, eps: number): ConvBnActResult {
  if (!batchStats) {
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, eps)));
    const shift = tf.sub(bn.beta, tf.mul(bn.runningMean, scale));
    return { y: silu(tf.add(tf.mul(x, scale), shift)) };
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const batchMean = mean as tf.Tensor1D;
  const batchVar = variance as tf.Tensor1D;
  const y = tf.add(tf.mul(tf.sub(x, batchMean), tf.mul(bn.gamma, tf.rsqrt(tf.add(batchVar, eps)))), bn.beta);
  return { y: silu(y as tf.Tensor4D), batchMean, batchVar };
}

/** Nearest upsampling by an integer factor via reshape + broadcast (no resize ops). */
export function upsampleNearest(x: tf.Tensor4D, s: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const x6 = tf.reshape(x, [b, h, 1, w, 1, c]);
  // Broadcasting multiply, not broadcastTo: its gradient (Tile) is missing for rank 6.
  const ones = tf.ones([1, 1, s, 1, s, 1]);
  return tf.reshape(tf.mul(x6, ones), [b, h * s, w * s, c]);
}

/** YOLOv5 Focus space-to-depth: cat(x[::2,::2], x[1::2,::2], x[::2,1::2], x[1::2,1::2]) on channels. */
export function spaceToDepthFocus(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const part = (dy: number, dx: number): tf.Tensor4D =>
    tf.stridedSlice(x, [0, dy, dx, 0], [b, h, w, c], [1, 2, 2, 1]) as tf.Tensor4D;
  return tf.concat([part(0, 0), part(1, 0), part(0, 1), part(1, 1)], 3);
}

/** MaxPool2d(k, stride 1, padding k//2): for odd k at stride 1 tfjs 'same' pads symmetrically. */
export function maxPoolSame(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.maxPool(x, k, 1, 'same');
}
