/**
 * A rough estimate of training memory for a freeze choice, shown in the explorer before anything
 * trains. It is an estimate, labelled as one; measured peaks come from real runs.
 *
 * Model: weights (all) + gradient and momentum for trainable weights (4 bytes each), plus saved
 * activations of the modules the backward pass goes through: every module from the first
 * trainable one on (modules before it run outside the gradient tape). Each module's saved
 * activations are its output size times its block kind's factor (`savedPerOutput`, defined with
 * each kind in the engine's block registry), calibrated on the measured
 * peak of YOLOv5n at 320, batch 16, nothing frozen: 3.76 GB of live tensors on the WASM backend
 * (TFJS-NOTES).
 */
import type { ArchDescription } from './arch.js';

// tfjs keeps ~6x more than the conv-level count above (sigmoid, products, broadcast copies): 3.76 GB / 0.635 GB.
const CALIBRATION = 5.9;
const BYTES = 4;

export interface MemoryEstimate {
  /** Bytes of weights, gradients and optimizer state. */
  readonly parameters: number;
  /** Bytes of activations kept for the backward pass. */
  readonly activations: number;
  readonly total: number;
  /** First module the backward pass reaches (modules before it run outside the tape). */
  readonly firstTrainable: number;
}

export function estimateTrainingMemory(
  arch: Pick<ArchDescription, 'modules' | 'imgSize' | 'totalParams'>,
  frozenModules: readonly number[],
  opts: { batch: number; imgSize: number },
): MemoryEstimate {
  const frozen = new Set(frozenModules);
  const trainableParams = arch.modules.reduce((a, m) => a + (frozen.has(m.index) ? 0 : m.params), 0);
  const firstTrainable = arch.modules.find((m) => !frozen.has(m.index) && m.params > 0)?.index ?? arch.modules.length;
  const scale = (opts.imgSize / arch.imgSize) ** 2;
  let elements = 0;
  for (const m of arch.modules) {
    if (m.index < firstTrainable) continue;
    const size = m.outShape.reduce((a, b) => a * b, 1);
    elements += size * scale * m.savedPerOutput;
  }
  const parameters = (arch.totalParams + 2 * trainableParams) * BYTES;
  const activations = elements * opts.batch * BYTES * CALIBRATION;
  return { parameters, activations, total: parameters + activations, firstTrainable };
}
