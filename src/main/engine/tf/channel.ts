/**
 * Per-channel reductions of NHWC tensors as one global average pooling.
 *
 * Why: tfjs-backend-wasm reduces over leading axes (`tf.sum(x, [0,1,2])`, `tf.mean`) by first
 * transposing the reduced axes innermost, a full strided copy: 12 ms for [8,160,160,16] and 18 ms
 * for a [8,40,40,255] Detect map, where XNNPACK's average pooling over the whole map, read in
 * place, takes 0.8 and 1.6 ms (bench/kernels.ts `reduce`). A matMul with a row of ones is no
 * better: XNNPACK packs the big operand as weights on every call. BatchNorm statistics and bias
 * gradients are such reductions.
 */
import * as tf from '@tensorflow/tfjs';

/** Mean over every axis but the last: [..., C] -> [C]. */
export function channelMean(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const s = x.shape;
    const c = s[s.length - 1] ?? 1;
    // [N,H,W,C] pools as one [N*H, W] window; other ranks as an [M, 1] column.
    const w = s.length === 4 ? (s[2] ?? 1) : 1;
    const rows = x.size / c / w;
    const pooled = tf.avgPool(tf.reshape(x, [1, rows, w, c]) as tf.Tensor4D, [rows, w], 1, 'valid');
    return tf.reshape(pooled, [c]);
  });
}

/** Sum over every axis but the last: [..., C] -> [C]. */
export function channelSum(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const c = x.shape[x.shape.length - 1] ?? 1;
    return tf.mul(channelMean(x), x.size / c);
  });
}

/**
 * x + bias over the last axis, whose bias gradient is a {@link channelSum} (tf.add's own gradient
 * reduces with tf.sum: 18 ms per Detect conv at 320, batch 8, against about 2 ms).
 */
export function addChannelBias<T extends tf.Tensor>(x: T, bias: tf.Tensor1D): T {
  const f = tf.customGrad((xi, bi) => ({
    value: tf.add(xi as tf.Tensor, bi as tf.Tensor),
    gradFunc: (dy) => [tf.clone(dy as tf.Tensor), channelSum(dy as tf.Tensor)],
  }));
  return f(x, bias) as T;
}
