/** models/common.py BottleneckCSP: CSP bottleneck with bare cv2/cv3 and a BatchNorm over the join. */
import * as tf from '@tensorflow/tfjs';
import type { ConvSpec } from '../blocks.js';
import { batchNormAct } from '../kernels.js';
import { runConv } from '../layers.js';
import { bottleneckBlock, cspBranch } from './bottleneck.js';
import { applyConv, bnTensors, convSpec, convTensors, defineBlock } from './common.js';
import type { Geometry } from './common.js';

/** A bare 1x1 nn.Conv2d without bias. */
function bare(name: string, c1: number, c2: number): ConvSpec {
  return { weight: `${name}.weight`, act: false, c1, c2, k: 1, s: 1, p: 0 };
}

export const bottleneckCspBlock = defineBlock({
  kind: 'BottleneckCSP',
  savedPerOutput: 10,
  modules: ['BottleneckCSP'],
  build: {
    mode: 'inner',
    make(ctx, c1, c2) {
      const p = ctx.prefix;
      const { c, m } = cspBranch(ctx, c2);
      return {
        kind: 'BottleneckCSP',
        cv1: convSpec(`${p}.cv1`, c1, c, 1, 1),
        cv2: bare(`${p}.cv2`, c1, c),
        cv3: bare(`${p}.cv3`, c, c),
        cv4: convSpec(`${p}.cv4`, 2 * c, c2, 1, 1),
        bn: `${p}.bn`,
        bnChannels: 2 * c,
        m,
      };
    },
  },
  tensors: (block, module) => [
    ...convTensors(module, block.cv1, block.cv2, block.cv3, block.cv4),
    ...bnTensors(block.bn, block.bnChannels, module),
    ...block.m.flatMap((b) => bottleneckBlock.tensors(b, module)),
  ],
  run(ctx, block, x) {
    let a = runConv(ctx, block.cv1, x);
    for (const b of block.m) a = bottleneckBlock.run(ctx, b, a, [a]);
    const y1 = runConv(ctx, block.cv3, a);
    const y2 = runConv(ctx, block.cv2, x);
    const cat = tf.concat([y1, y2], 3);
    const r = batchNormAct(cat, ctx.bn(block.bn), ctx.batchStats, ctx.eps);
    if (r.batchMean && r.batchVar) {
      const [b, h, w] = cat.shape;
      ctx.recordStats(block.bn, r.batchMean, r.batchVar, b * h * w);
    }
    return runConv(ctx, block.cv4, r.y);
  },
  geometry(block, h, w) {
    let g: Geometry = applyConv({ h, w, macs: 0 }, block.cv1);
    for (const b of block.m) g = { ...g, macs: g.macs + bottleneckBlock.geometry(b, g.h, g.w).macs };
    for (const c of [block.cv2, block.cv3, block.cv4]) g = { ...g, macs: applyConv(g, c).macs };
    return g;
  },
});
