/**
 * models/yolo.py Detect: one 1x1 output conv with bias per level; args [nc, anchors], where an int
 * anchor count becomes placeholder anchors (AutoAnchor). The model runs its forward (forward.ts).
 */
import { convTensors, defineBlock } from './common.js';

export const detectBlock = defineBlock({
  kind: 'Detect',
  savedPerOutput: 2,
  modules: ['Detect'],
  channelLimit: false,
  build: {
    mode: 'fixed',
    make(ctx) {
      const { args, inputs, prefix: p } = ctx;
      const dnc = ctx.num(0, undefined, 'nc');
      const anc = args[1];
      const nl = inputs.length;
      let levels: number[][];
      if (typeof anc === 'number' && Number.isInteger(anc) && anc > 0) {
        levels = Array.from({ length: nl }, () => Array.from({ length: anc * 2 }, (_, k) => k));
      } else if (Array.isArray(anc) && anc.every((l) => Array.isArray(l) && l.every((x) => typeof x === 'number'))) {
        levels = anc as number[][];
      } else {
        return ctx.fail(
          `argument 1 (anchors) must be 'anchors', a list of levels or a count, got ${JSON.stringify(anc)}`,
        );
      }
      if (levels.length !== nl)
        ctx.fail(`${levels.length} anchor levels for ${nl} inputs; give one anchors row per Detect input`);
      const dna = (levels[0]?.length ?? 0) / 2;
      if (levels.some((l) => l.length !== dna * 2 || l.length % 2 !== 0))
        ctx.fail('every anchors level needs the same even number of values');
      const chs = inputs.map((j) => ctx.chOf(j));
      const dstrides = inputs.map((j) => ctx.strideOf(j));
      const c2 = dna * (dnc + 5);
      return {
        ctorArgs: [dnc, levels, chs],
        c2,
        stride: dstrides[dstrides.length - 1] ?? 1,
        block: {
          kind: 'Detect',
          nc: dnc,
          na: dna,
          anchorsName: `${p}.anchors`,
          anchorPixels: levels.map((l) =>
            Array.from({ length: dna }, (_, a) => [l[2 * a] ?? 0, l[2 * a + 1] ?? 0] as [number, number]),
          ),
          strides: dstrides,
          convs: chs.map((c, j) => ({
            weight: `${p}.m.${j}.weight`,
            bias: `${p}.m.${j}.bias`,
            act: false,
            c1: c,
            c2,
            k: 1,
            s: 1,
            p: 0,
          })),
        },
      };
    },
  },
  tensors: (block, module) => [
    { name: block.anchorsName, shape: [block.strides.length, block.na, 2], kind: 'buffer', module },
    ...convTensors(module, ...block.convs),
  ],
  run() {
    throw new Error('Detect is run by the model, not runBlock');
  },
  geometry: (_block, h, w) => ({ h, w, macs: 0 }),
  arch(block, inSize) {
    let macs = 0;
    let n = 0;
    block.convs.forEach((c, j) => {
      const s = inSize(j);
      macs += s.h * s.w * c.c2 * (c.c1 + 1);
      n += block.na * s.h * s.w;
    });
    return { outShape: [n, 5 + block.nc], macs, size: inSize(0), strides: [...block.strides] };
  },
});
