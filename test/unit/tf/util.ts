/** Shared helpers for the tf kernel tests. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/tf/backend.js';

/** Switch to the wasm backend (loading it through the engine's own path resolution once). */
export async function useWasm(): Promise<void> {
  wasmReady ??= initBackend({ prefer: 'wasm' }).then(() => undefined);
  await wasmReady;
  await tf.setBackend('wasm');
}
let wasmReady: Promise<void> | undefined;

/** Switch to the pure-JS cpu backend. */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
}

/** max |a - b| / max |b| over all elements (0 when both are all zero). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
    scale = Math.max(scale, Math.abs(b[i] ?? NaN));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Deterministic pseudo-random normal-ish data (so failures reproduce). */
export function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}
