/** models/common.py SPPF: cv1, three chained max pools of size k, concat, cv2. */
import * as tf from '@tensorflow/tfjs';
import { maxPoolSame } from '../kernels.js';
import { runConv } from '../layers.js';
import { applyConv, convSpec, convTensors, defineBlock } from './common.js';

export const sppfBlock = defineBlock({
  kind: 'SPPF',
  savedPerOutput: 7,
  modules: ['SPPF'],
  build: {
    mode: 'unit',
    make(ctx, prefix, c1, c2) {
      const c = Math.floor(c1 / 2);
      return {
        kind: 'SPPF',
        cv1: convSpec(`${prefix}.cv1`, c1, c, 1, 1),
        cv2: convSpec(`${prefix}.cv2`, c * 4, c2, 1, 1),
        k: ctx.num(1, 5, 'kernel'),
      };
    },
  },
  tensors: (block, module) => convTensors(module, block.cv1, block.cv2),
  run(ctx, block, x) {
    const a = runConv(ctx, block.cv1, x);
    const y1 = maxPoolSame(a, block.k);
    const y2 = maxPoolSame(y1, block.k);
    const y3 = maxPoolSame(y2, block.k);
    return runConv(ctx, block.cv2, tf.concat([a, y1, y2, y3], 3));
  },
  geometry(block, h, w) {
    const start = { h, w, macs: 0 };
    return { h, w, macs: applyConv(start, block.cv1).macs + applyConv(start, block.cv2).macs };
  },
});
