/** models/common.py Bottleneck: cv1 1x1, cv2 3x3, residual when shortcut and c1 == c2. */
import * as tf from '@tensorflow/tfjs';
import type { BottleneckBlock } from '../blocks.js';
import { runConv } from '../layers.js';
import { applyConv, convSpec, convTensors, defineBlock, type BuildContext } from './common.js';

/** Bottleneck(c1, c2, shortcut, g=1, e) named under `prefix`. */
export function makeBottleneck(prefix: string, c1: number, c2: number, shortcut: boolean, e: number): BottleneckBlock {
  const c = Math.trunc(c2 * e);
  return {
    kind: 'Bottleneck',
    cv1: convSpec(`${prefix}.cv1`, c1, c, 1, 1),
    cv2: convSpec(`${prefix}.cv2`, c, c2, 3, 1),
    add: shortcut && c1 === c2,
  };
}

/**
 * The hidden branch of a CSP block (C3, BottleneckCSP) from its YAML args (c2, shortcut, g, e):
 * c_ = int(c2 * e) channels and the scaled n bottlenecks on them, named `<prefix>.m.<k>`.
 */
export function cspBranch(ctx: BuildContext, c2: number): { c: number; m: BottleneckBlock[] } {
  const shortcut = ctx.bool(1, true, 'shortcut');
  ctx.groupsOk(2);
  const e = typeof ctx.args[3] === 'number' ? ctx.args[3] : 0.5;
  const c = Math.trunc(c2 * e);
  return {
    c,
    m: Array.from({ length: ctx.nScaled }, (_, k) => makeBottleneck(`${ctx.prefix}.m.${k}`, c, c, shortcut, 1.0)),
  };
}

export const bottleneckBlock = defineBlock({
  kind: 'Bottleneck',
  savedPerOutput: 6,
  modules: ['Bottleneck'],
  build: {
    mode: 'unit',
    make(ctx, prefix, c1, c2) {
      ctx.groupsOk(2);
      const e = typeof ctx.args[3] === 'number' ? ctx.args[3] : 0.5;
      return makeBottleneck(prefix, c1, c2, ctx.bool(1, true, 'shortcut'), e);
    },
  },
  tensors: (block, module) => convTensors(module, block.cv1, block.cv2),
  run(ctx, block, x) {
    const y = runConv(ctx, block.cv2, runConv(ctx, block.cv1, x));
    return block.add ? tf.add(x, y) : y;
  },
  geometry: (block, h, w) => applyConv(applyConv({ h, w, macs: 0 }, block.cv1), block.cv2),
});
