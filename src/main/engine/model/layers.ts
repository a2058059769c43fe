/**
 * Runs one graph block on tensors (NHWC). Module semantics follow YOLOv5 models/common.py
 * (Conv, Bottleneck, C3, BottleneckCSP, SPP, SPPF, Focus) and nn.Upsample / Concat.
 */
import * as tf from '@tensorflow/tfjs';
import type { Block, ConvSpec } from './blocks.js';
import { batchNormAct, maxPoolSame, spaceToDepthFocus, upsampleNearest } from './kernels.js';
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

/** Runs a block on its inputs (one tensor except for Concat). Detect is run by the model. */
export function runBlock(ctx: BlockContext, block: Block, inputs: readonly tf.Tensor4D[]): tf.Tensor4D {
  const x = inputs[0];
  if (x === undefined) throw new Error(`${block.kind} got no input`);
  switch (block.kind) {
    case 'Conv':
      return runConv(ctx, block.conv, x);
    case 'Focus':
      return runConv(ctx, block.conv, spaceToDepthFocus(x));
    case 'Bottleneck': {
      const y = runConv(ctx, block.cv2, runConv(ctx, block.cv1, x));
      return block.add ? tf.add(x, y) : y;
    }
    case 'C3': {
      let a = runConv(ctx, block.cv1, x);
      for (const b of block.m) a = runBlock(ctx, b, [a]);
      return runConv(ctx, block.cv3, tf.concat([a, runConv(ctx, block.cv2, x)], 3));
    }
    case 'BottleneckCSP': {
      let a = runConv(ctx, block.cv1, x);
      for (const b of block.m) a = runBlock(ctx, b, [a]);
      const y1 = runConv(ctx, block.cv3, a);
      const y2 = runConv(ctx, block.cv2, x);
      const cat = tf.concat([y1, y2], 3);
      const r = batchNormAct(cat, ctx.bn(block.bn), ctx.batchStats, ctx.eps);
      if (r.batchMean && r.batchVar) {
        const [b, h, w] = cat.shape;
        ctx.recordStats(block.bn, r.batchMean, r.batchVar, b * h * w);
      }
      return runConv(ctx, block.cv4, r.y);
    }
    case 'SPPF': {
      const a = runConv(ctx, block.cv1, x);
      const y1 = maxPoolSame(a, block.k);
      const y2 = maxPoolSame(y1, block.k);
      const y3 = maxPoolSame(y2, block.k);
      return runConv(ctx, block.cv2, tf.concat([a, y1, y2, y3], 3));
    }
    case 'SPP': {
      const a = runConv(ctx, block.cv1, x);
      return runConv(ctx, block.cv2, tf.concat([a, ...block.ks.map((k) => maxPoolSame(a, k))], 3));
    }
    case 'Upsample':
      return upsampleNearest(x, block.scale);
    case 'Concat':
      return tf.concat([...inputs], 3);
    case 'Sequential': {
      let y = x;
      for (const b of block.items) y = runBlock(ctx, b, [y]);
      return y;
    }
    case 'Detect':
      throw new Error('Detect is run by the model, not runBlock');
  }
}
