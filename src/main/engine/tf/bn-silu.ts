/**
 * BatchNorm2d + SiLU fused, NHWC, with closed-form gradients (follows YOLOv5 models/common.py
 * Conv: conv -> BatchNorm2d(eps 1e-3, momentum 0.03) -> SiLU).
 *
 * Why fused: tfjs' own batchNorm gradient goes through `Tile` on wasm (~70 ns per element), and
 * autodiff of the unfused ops keeps several full-size intermediates alive for the backward pass.
 * Here the backward pass keeps only the input x (plus per-channel vectors) and recomputes the
 * normalised value and the sigmoid, which is cheap elementwise work. Per-channel statistics and
 * sums go through {@link channelSum} (tf.sum/tf.mean over N,H,W transpose first on wasm), and the
 * per-channel factors are folded so that each full-size term costs one kernel: 5 full-size kernels
 * forward (was 6 plus two slow reductions), 14 backward (was 15 plus two).
 */
import * as tf from '@tensorflow/tfjs';
import { channelMean, channelSum } from './channel.js';

/** YOLOv5's BatchNorm2d eps. */
export const BN_EPS = 1e-3;
/** YOLOv5's BatchNorm2d momentum (PyTorch convention: weight of the new batch statistic). */
export const BN_MOMENTUM = 0.03;

/** Result of {@link bnSiluTrain}. */
export interface BnSiluTrainResult {
  /** silu(gamma * (x - mean) / sqrt(biasedVar + eps) + beta), shape of x. */
  y: tf.Tensor4D;
  /** Batch mean per channel, [C]; carries no gradient. */
  mean: tf.Tensor1D;
  /** Unbiased batch variance per channel (what PyTorch puts in running_var), [C]; no gradient. */
  variance: tf.Tensor1D;
}

/**
 * Train-mode BatchNorm (batch statistics over N,H,W; the biased variance normalises, as PyTorch
 * does) followed by SiLU. Differentiable with respect to x, gamma and beta.
 * Update the running statistics with {@link updateRunningStats}.
 */
export function bnSiluTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number = BN_EPS,
): BnSiluTrainResult {
  const m = x.shape[0] * x.shape[1] * x.shape[2];
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | undefined;
  const f = tf.customGrad<tf.Tensor4D>((xi, gi, bi, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const x4 = xi as tf.Tensor4D;
    const g = gi as tf.Tensor1D;
    const b = bi as tf.Tensor1D;
    const mean = channelMean(x4);
    // Centred (two-pass) variance, in one elementwise kernel.
    const biasedVar = channelMean(tf.squaredDifference(x4, mean));
    const invStd = tf.rsqrt(tf.add(biasedVar, eps)) as tf.Tensor1D;
    const scale = tf.mul(g, invStd);
    // z = (x - mean) * scale + beta as one multiply-add: the shift is a per-channel vector.
    const z = tf.add(tf.mul(x4, scale), tf.sub(b, tf.mul(mean, scale)));
    const y = tf.mul(z, tf.sigmoid(z)) as tf.Tensor4D;
    stats = {
      mean: tf.keep(mean),
      variance: tf.keep(tf.mul(biasedVar, m / Math.max(m - 1, 1)) as tf.Tensor1D),
    };
    save([x4, g, b, mean, invStd]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sg, sb, smean, sinv] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const xc = tf.sub(sx, smean);
        const k = tf.mul(sg, sinv);
        const dz = siluBackward(dy, tf.add(tf.mul(xc, k), sb) as tf.Tensor4D);
        const dBeta = channelSum(dz);
        const dGamma = tf.mul(channelSum(tf.mul(dz, xc)), sinv) as tf.Tensor1D;
        // dx = k * (dz - mean(dz) - xhat * mean(dz * xhat)), xhat = xc * invStd: per-channel
        // vectors folded so each full-size term is one kernel.
        const e = tf.mul(dGamma, tf.mul(sinv, -1 / m));
        const dx = tf.mul(tf.add(tf.add(dz, tf.mul(xc, e)), tf.mul(dBeta, -1 / m)), k);
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = f(x, gamma, beta);
  if (stats === undefined) throw new Error('bnSiluTrain: forward did not run');
  // Kept inside the forward (it runs in its own tidy); hand them back to the caller's scope.
  const mean = tf.clone(stats.mean);
  const variance = tf.clone(stats.variance);
  tf.dispose([stats.mean, stats.variance]);
  return { y, mean, variance };
}

/**
 * Eval-mode BatchNorm (running statistics) followed by SiLU: silu(x * s + (beta - rm * s)),
 * s = gamma / sqrt(runningVar + eps). Differentiable with respect to x, gamma and beta (for
 * Ultralytics-style frozen-BN training); running stats get no gradient.
 */
export function bnSiluEval(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  eps: number = BN_EPS,
): tf.Tensor4D {
  const f = tf.customGrad<tf.Tensor4D>((xi, gi, bi, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const x4 = xi as tf.Tensor4D;
    const g = gi as tf.Tensor1D;
    const b = bi as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(runningVar, eps)) as tf.Tensor1D;
    const scale = tf.mul(g, invStd);
    const shift = tf.sub(b, tf.mul(runningMean, scale));
    const z = tf.add(tf.mul(x4, scale), shift);
    // Only what the backward pass reads is kept (the forward's intermediates are disposed).
    save([x4, g, b, runningMean, invStd]);
    return {
      value: tf.mul(z, tf.sigmoid(z)) as tf.Tensor4D,
      gradFunc: (dy, saved) => {
        const [sx, sg, sb, srm, sinv] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const xhat = tf.mul(tf.sub(sx, srm), sinv);
        const dz = siluBackward(dy, tf.add(tf.mul(xhat, sg), sb) as tf.Tensor4D);
        return [tf.mul(dz, tf.mul(sg, sinv)), channelSum(tf.mul(dz, xhat)), channelSum(dz)];
      },
    };
  });
  return f(x, gamma, beta);
}

/** d silu(z)/dz * dy = dy * s * (1 + z * (1 - s)), s = sigmoid(z). */
function siluBackward(dy: tf.Tensor4D, z: tf.Tensor4D): tf.Tensor4D {
  const s = tf.sigmoid(z);
  return tf.mul(dy, tf.mul(s, tf.add(1, tf.mul(z, tf.sub(1, s)))));
}

/**
 * running = (1 - momentum) * running + momentum * batch, in place (PyTorch's BatchNorm update;
 * `batchVariance` must be the unbiased one {@link bnSiluTrain} returns).
 */
export function updateRunningStats(
  runningMean: tf.Variable,
  runningVar: tf.Variable,
  batchMean: tf.Tensor1D,
  batchVariance: tf.Tensor1D,
  momentum: number = BN_MOMENTUM,
): void {
  tf.tidy(() => {
    runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(batchMean, momentum)));
    runningVar.assign(tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(batchVariance, momentum)));
  });
}
