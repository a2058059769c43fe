/**
 * What a block needs while it runs (NHWC) and the Conv every block kind is made of. The kinds'
 * forward passes (YOLOv5 models/common.py semantics) live in `blocks/`, run through
 * `blocks/registry.ts` runBlock.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ConvSpec } from './blocks.js';
import type { BnTensors, ConvBnActFn } from './kernels.js';

/** What a block needs from the model while it runs. */
export interface BlockContext {
  readonly convBnAct: ConvBnActFn;
  /** Filter (HWIO) and bias of a conv. */
  weights(spec: ConvSpec): { w: tf.Tensor4D; bias?: tf.Tensor1D };
  bn(prefix: string): BnTensors;
  /** BatchNorm with batch statistics in this module. */
  readonly batchStats: boolean;
  readonly eps: number;
  /** Receives batch statistics (train mode) for a running-stat update. */
  recordStats(bnPrefix: string, mean: tf.Tensor1D, biasedVar: tf.Tensor1D, count: number): void;
}

/** One Conv (+ BN + SiLU) through the context's convBnAct. */
export function runConv(ctx: BlockContext, spec: ConvSpec, x: tf.Tensor4D): tf.Tensor4D {
  const { w, bias } = ctx.weights(spec);
  const bn = spec.bn ? ctx.bn(spec.bn) : undefined;
  const r = ctx.convBnAct({
    x,
    w,
    ...(bias ? { bias } : {}),
    ...(bn ? { bn } : {}),
    stride: spec.s,
    pad: spec.p,
    act: spec.act,
    batchStats: ctx.batchStats && bn !== undefined,
    eps: ctx.eps,
  });
  if (spec.bn && r.batchMean && r.batchVar) {
    const [b, h, wd] = r.y.shape;
    ctx.recordStats(spec.bn, r.batchMean, r.batchVar, b * h * wd);
  }
  return r.y;
}
