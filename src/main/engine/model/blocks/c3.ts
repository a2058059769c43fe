/** models/common.py C3: CSP bottleneck with 3 convolutions; the scaled n builds its bottlenecks. */
import * as tf from '@tensorflow/tfjs';
import { runConv } from '../layers.js';
import { bottleneckBlock, cspBranch } from './bottleneck.js';
import { applyConv, convSpec, convTensors, defineBlock } from './common.js';
import type { Geometry } from './common.js';

export const c3Block = defineBlock({
  kind: 'C3',
  savedPerOutput: 9,
  modules: ['C3'],
  build: {
    mode: 'inner',
    make(ctx, c1, c2) {
      const p = ctx.prefix;
      const { c, m } = cspBranch(ctx, c2);
      return {
        kind: 'C3',
        cv1: convSpec(`${p}.cv1`, c1, c, 1, 1),
        cv2: convSpec(`${p}.cv2`, c1, c, 1, 1),
        cv3: convSpec(`${p}.cv3`, 2 * c, c2, 1, 1),
        m,
      };
    },
  },
  tensors: (block, module) => [
    ...convTensors(module, block.cv1, block.cv2, block.cv3),
    ...block.m.flatMap((b) => bottleneckBlock.tensors(b, module)),
  ],
  run(ctx, block, x) {
    let a = runConv(ctx, block.cv1, x);
    for (const b of block.m) a = bottleneckBlock.run(ctx, b, a, [a]);
    return runConv(ctx, block.cv3, tf.concat([a, runConv(ctx, block.cv2, x)], 3));
  },
  geometry(block, h, w) {
    let g: Geometry = applyConv({ h, w, macs: 0 }, block.cv1);
    for (const b of block.m) g = { ...g, macs: g.macs + bottleneckBlock.geometry(b, g.h, g.w).macs };
    for (const c of [block.cv2, block.cv3]) g = { ...g, macs: applyConv(g, c).macs };
    return g;
  },
});
