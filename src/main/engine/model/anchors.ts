/** The Detect anchors of a model in pixels (its `anchors` buffer holds them divided by stride). */
import * as tf from '@tensorflow/tfjs';
import type { YoloModel } from './forward.js';
import { detectBlock } from './graph.js';

function anchorsBuffer(model: YoloModel): { variable: tf.Variable; strides: readonly number[]; per: number } {
  const det = detectBlock(model.graph);
  const variable = model.buffers.get(det.anchorsName)?.variable;
  if (!variable) throw new Error(`the model has no ${det.anchorsName} buffer`);
  return { variable, strides: det.strides, per: det.na * 2 };
}

/** Anchors [w0,h0, w1,h1, ...] in pixels, level by level. */
export function anchorPixels(model: YoloModel): Float64Array {
  const { variable, strides, per } = anchorsBuffer(model);
  return Float64Array.from(variable.dataSync(), (v, i) => v * strides[Math.floor(i / per)]!);
}

/** Sets the anchors from pixels; `round` applies to the stored grid-unit values. */
export function setAnchorPixels(
  model: YoloModel,
  pixels: ArrayLike<number>,
  round: (v: number) => number = (v) => v,
): void {
  const { variable, strides, per } = anchorsBuffer(model);
  const grid = Float32Array.from(pixels, (v, i) => round(v / strides[Math.floor(i / per)]!));
  variable.assign(tf.tensor(grid, variable.shape, 'float32'));
}

/** Anchors in pixels per level, as a model YAML writes them. */
export function anchorPixelLevels(model: YoloModel): number[][] {
  const { strides, per } = anchorsBuffer(model);
  const flat = anchorPixels(model);
  return strides.map((_, l) => Array.from(flat.subarray(l * per, (l + 1) * per), (v) => Math.round(v * 1e4) / 1e4));
}
