/**
 * TensorFlow.js set-up and the training kernels the WASM backend lacks or runs slowly.
 *
 * Usage by the engine:
 *   const report = await initBackend();   // picks tfjs-node-gpu > tfjs-node > wasm > cpu
 *   registerTrainingKernels();            // before the first forward pass that will be trained
 *   y = tf.conv2d(x, w, s, [[0,0],[p,p],[p,p],[0,0]]);  // plain conv2d: its gradient is ours
 *   const { y: a, mean, variance } = bnSiluTrain(y, gamma, beta);   // train-mode BN + SiLU
 *   updateRunningStats(runningMean, runningVar, mean, variance);    // after the step
 *   up = upsample2x(a);
 */
import { registerConvGradient } from './conv-grad.js';
import type { ConvGradMode } from './conv-grad.js';

export { initBackend, memoryInfo, defaultWasmPath, BackendError } from './backend.js';
export type { BackendAttempt, BackendReport, InitBackendOptions, MemoryInfo } from './backend.js';
export { registerConvGradient, conv2dGradFilter, conv2dGradInput, convGeometry } from './conv-grad.js';
export type { ConvGradMode, ConvGeometry, ConvPad } from './conv-grad.js';
export { bnSiluTrain, bnSiluEval, updateRunningStats, BN_EPS, BN_MOMENTUM } from './bn-silu.js';
export type { BnSiluTrainResult } from './bn-silu.js';
export { upsample2x } from './upsample.js';
export { channelSum, channelMean, addChannelBias } from './channel.js';

/**
 * Register the gradients training needs (today: Conv2D, see {@link registerConvGradient}).
 * Idempotent. Gradients are looked up when an op runs, so call it before the forward pass of the
 * first training step. Works on any backend: on each it uses what is fastest there.
 */
export function registerTrainingKernels(opts: { convGradient?: ConvGradMode } = {}): void {
  registerConvGradient(opts.convGradient ?? 'auto');
}
