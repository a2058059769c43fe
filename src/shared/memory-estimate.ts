/**
 * A rough estimate of training memory for a freeze choice, shown in the explorer before anything
 * trains. It is an estimate, labelled as one; measured peaks come from real runs.
 *
 * Model: weights (all) + gradient and momentum for trainable weights (4 bytes each), plus saved
 * activations of the modules the backward pass goes through: every module from the first
 * trainable one on (modules before it run outside the gradient tape). Each module's saved
 * activations are its output size times a per-type factor counting the intermediate tensors its
 * convolutions keep (conv output, normalised output, activation input), calibrated on the measured
 * peak of YOLOv5n at 320, batch 16, nothing frozen: 3.76 GB of live tensors on the WASM backend
 * (TFJS-NOTES).
 */
import type { ArchDescription } from './arch.js';

/** Intermediate tensors kept per output element, by module type (C3 keeps its hidden branches). */
const SAVED_PER_OUTPUT: Readonly<Record<string, number>> = {
  Conv: 3,
  Focus: 4,
  C3: 9,
  BottleneckCSP: 10,
  Bottleneck: 6,
  SPPF: 7,
  SPP: 7,
  Upsample: 1,
  Concat: 1,
  Detect: 2,
};
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
    elements += size * scale * (SAVED_PER_OUTPUT[m.type] ?? 3);
  }
  const parameters = (arch.totalParams + 2 * trainableParams) * BYTES;
  const activations = elements * opts.batch * BYTES * CALIBRATION;
  return { parameters, activations, total: parameters + activations, firstTrainable };
}
