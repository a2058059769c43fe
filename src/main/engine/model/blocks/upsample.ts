/** nn.Upsample(None, scale, 'nearest'). */
import { upsampleNearest } from '../kernels.js';
import { defineBlock } from './common.js';

export const upsampleBlock = defineBlock({
  kind: 'Upsample',
  savedPerOutput: 1,
  modules: ['nn.Upsample'],
  aliases: ['Upsample', 'torch.nn.Upsample'],
  build: {
    mode: 'fixed',
    make(ctx) {
      const { args } = ctx;
      const src = ctx.single();
      if (args[0] !== null && args[0] !== undefined)
        ctx.fail('Upsample by output size is not supported; use [None, 2, nearest]');
      const scale = ctx.num(1, undefined, 'scale factor');
      if ((args[2] ?? 'nearest') !== 'nearest')
        ctx.fail(`only 'nearest' upsampling is supported, got ${JSON.stringify(args[2])}`);
      return { block: { kind: 'Upsample', scale }, c2: ctx.chOf(src), stride: ctx.strideOf(src) / scale };
    },
  },
  tensors: () => [],
  run: (_ctx, block, x) => upsampleNearest(x, block.scale),
  geometry: (block, h, w) => ({ h: h * block.scale, w: w * block.scale, macs: 0 }),
});
