/** models/common.py Concat over channels (dimension 1; NHWC axis 3 here). */
import * as tf from '@tensorflow/tfjs';
import { defineBlock } from './common.js';

export const concatBlock = defineBlock({
  kind: 'Concat',
  savedPerOutput: 1,
  modules: ['Concat'],
  build: {
    mode: 'fixed',
    make(ctx) {
      const { args, inputs } = ctx;
      if ((args[0] ?? 1) !== 1)
        ctx.fail(`only Concat over channels (dimension 1) is supported, got ${JSON.stringify(args[0])}`);
      const ss = inputs.map((j) => ctx.strideOf(j));
      if (ss.some((s) => s !== ss[0]))
        ctx.fail(`joins maps of different strides (${ss.join(', ')}) from modules ${inputs.join(', ')}`);
      return {
        block: { kind: 'Concat' },
        c2: inputs.reduce((a, j) => a + ctx.chOf(j), 0),
        stride: ss[0] ?? 1,
      };
    },
  },
  tensors: () => [],
  run: (_ctx, _block, _x, inputs) => tf.concat([...inputs], 3),
  geometry: (_block, h, w) => ({ h, w, macs: 0 }),
});
