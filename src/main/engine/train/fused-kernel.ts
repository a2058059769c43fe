/**
 * Conv -> BatchNorm -> SiLU for training: batch-statistics BatchNorm and SiLU in one op with a
 * closed-form gradient (src/main/engine/tf/bn-silu.ts), which saves both time and the
 * intermediate tensors autodiff would keep. Everything else goes to the model's default kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { defaultConvBnAct, type ConvBnActFn } from '../model/kernels.js';
import { bnSiluTrain } from '../tf/index.js';

export const trainingConvBnAct: ConvBnActFn = (a) => {
  if (!a.bn || !a.act || !a.batchStats) return defaultConvBnAct(a);
  const pad: tf.backend_util.ExplicitPadding | 'valid' =
    a.pad === 0
      ? 'valid'
      : [
          [0, 0],
          [a.pad, a.pad],
          [a.pad, a.pad],
          [0, 0],
        ];
  const z = tf.conv2d(a.x, a.w, a.stride, pad);
  const { y, mean, variance } = bnSiluTrain(z, a.bn.gamma, a.bn.beta, a.eps);
  // The model expects the biased batch variance (it derives the unbiased one for running stats).
  const n = z.shape[0] * z.shape[1] * z.shape[2];
  const batchVar = n > 1 ? (tf.mul(variance, (n - 1) / n) as tf.Tensor1D) : variance;
  return { y, batchMean: mean, batchVar };
};
