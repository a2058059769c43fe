/** models/common.py Conv: conv, BatchNorm, SiLU (or no activation). */
import { runConv } from '../layers.js';
import { applyConv, convSpec, convTensors, defineBlock } from './common.js';

export const convBlock = defineBlock({
  kind: 'Conv',
  savedPerOutput: 3,
  modules: ['Conv'],
  build: {
    mode: 'unit',
    make(ctx, prefix, c1, c2) {
      const { args } = ctx;
      ctx.groupsOk(4);
      if (args[5] !== undefined && args[5] !== 1) ctx.fail('dilated convolutions are not supported');
      const act = args[6] ?? true;
      if (typeof act !== 'boolean') ctx.fail(`activation ${JSON.stringify(act)} is not supported (only SiLU or none)`);
      const pad = args[3] ?? null;
      return {
        kind: 'Conv',
        conv: convSpec(
          prefix,
          c1,
          c2,
          ctx.num(1, 1, 'kernel'),
          ctx.num(2, 1, 'stride'),
          pad === null ? null : ctx.num(3, 0, 'padding', 0),
          act as boolean,
        ),
      };
    },
  },
  tensors: (block, module) => convTensors(module, block.conv),
  strides: (block) => [block.conv.s],
  run: (ctx, block, x) => runConv(ctx, block.conv, x),
  geometry: (block, h, w) => applyConv({ h, w, macs: 0 }, block.conv),
});
