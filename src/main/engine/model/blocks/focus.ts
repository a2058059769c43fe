/** models/common.py Focus: space-to-depth, then a Conv. */
import { runConv } from '../layers.js';
import { spaceToDepthFocus } from '../kernels.js';
import { applyConv, convSpec, convTensors, defineBlock } from './common.js';

export const focusBlock = defineBlock({
  kind: 'Focus',
  savedPerOutput: 4,
  modules: ['Focus'],
  build: {
    mode: 'unit',
    make(ctx, prefix, c1, c2) {
      ctx.groupsOk(4);
      const pad = ctx.args[3] ?? null;
      const conv = convSpec(
        `${prefix}.conv`,
        c1 * 4,
        c2,
        ctx.num(1, 1, 'kernel'),
        ctx.num(2, 1, 'stride'),
        pad === null ? null : ctx.num(3, 0, 'padding', 0),
        ctx.bool(5, true, 'act'),
      );
      return { kind: 'Focus', conv };
    },
  },
  tensors: (block, module) => convTensors(module, block.conv),
  strides: (block) => [2, block.conv.s],
  run: (ctx, block, x) => runConv(ctx, block.conv, spaceToDepthFocus(x)),
  geometry: (block, h, w) => applyConv({ h: Math.floor(h / 2), w: Math.floor(w / 2), macs: 0 }, block.conv),
});
