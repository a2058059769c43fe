/** models/common.py SPP: cv1, parallel max pools of sizes ks, concat, cv2. */
import * as tf from '@tensorflow/tfjs';
import { maxPoolSame } from '../kernels.js';
import { runConv } from '../layers.js';
import { applyConv, convSpec, convTensors, defineBlock } from './common.js';

export const sppBlock = defineBlock({
  kind: 'SPP',
  savedPerOutput: 7,
  modules: ['SPP'],
  build: {
    mode: 'unit',
    make(ctx, prefix, c1, c2) {
      const k = ctx.args[1] ?? [5, 9, 13];
      if (!Array.isArray(k) || !k.every((x) => typeof x === 'number' && Number.isInteger(x) && x % 2 === 1)) {
        return ctx.fail(`SPP kernels must be a list of odd sizes like [5, 9, 13], got ${JSON.stringify(k)}`);
      }
      const ks = k as number[];
      const c = Math.floor(c1 / 2);
      return {
        kind: 'SPP',
        cv1: convSpec(`${prefix}.cv1`, c1, c, 1, 1),
        cv2: convSpec(`${prefix}.cv2`, c * (ks.length + 1), c2, 1, 1),
        ks,
      };
    },
  },
  tensors: (block, module) => convTensors(module, block.cv1, block.cv2),
  run(ctx, block, x) {
    const a = runConv(ctx, block.cv1, x);
    return runConv(ctx, block.cv2, tf.concat([a, ...block.ks.map((k) => maxPoolSame(a, k))], 3));
  },
  geometry(block, h, w) {
    const start = { h, w, macs: 0 };
    return { h, w, macs: applyConv(start, block.cv1).macs + applyConv(start, block.cv2).macs };
  },
});
