/**
 * The block registry: every block kind, keyed by kind and by the YAML module name it is built
 * from. Graph building, state_dict tensors, the forward pass and the architecture table look a
 * kind up here; a new model family adds kind files and lists them below.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Block, TensorSpec } from '../blocks.js';
import type { BlockContext } from '../layers.js';
import { bottleneckCspBlock } from './bottleneck-csp.js';
import { bottleneckBlock } from './bottleneck.js';
import { c3Block } from './c3.js';
import type { ArchFigures, BlockDef, BlockOf, Geometry } from './common.js';
import { concatBlock } from './concat.js';
import { convBlock } from './conv.js';
import { detectBlock } from './detect.js';
import { focusBlock } from './focus.js';
import { sppBlock } from './spp.js';
import { sppfBlock } from './sppf.js';
import { upsampleBlock } from './upsample.js';

type AnyDef = BlockDef<Block['kind']>;

/** n > 1 copies of a unit module (nn.Sequential): not a YAML module, built by graph.ts. */
const sequentialBlock: BlockDef<'Sequential'> = {
  kind: 'Sequential',
  modules: [],
  tensors: (block, module) => block.items.flatMap((b) => blockTensors(b, module)),
  strides: (block) => block.items.flatMap(blockStrides),
  run(ctx, block, x) {
    let y = x;
    for (const b of block.items) y = runBlock(ctx, b, [y]);
    return y;
  },
  geometry(block, h, w) {
    let g: Geometry = { h, w, macs: 0 };
    for (const b of block.items) {
      const next = blockGeometry(b, g.h, g.w);
      g = { ...next, macs: g.macs + next.macs };
    }
    return g;
  },
};

/** Every kind, YAML-built ones in the order error messages list them. */
const DEFS: readonly AnyDef[] = [
  convBlock,
  c3Block,
  sppfBlock,
  sppBlock,
  bottleneckBlock,
  bottleneckCspBlock,
  focusBlock,
  upsampleBlock,
  concatBlock,
  detectBlock,
  sequentialBlock,
] as unknown as readonly AnyDef[]; // each def only ever sees blocks of its own kind (defOf)

const BY_KIND = new Map<string, AnyDef>(DEFS.map((d) => [d.kind, d]));
const BY_MODULE = new Map<string, AnyDef>(
  DEFS.flatMap((d) => [...d.modules, ...(d.aliases ?? [])].map((name) => [name, d] as const)),
);

/** YAML module names the registry builds (canonical spelling, e.g. `nn.Upsample`). */
export const REGISTERED_MODULES: readonly string[] = DEFS.flatMap((d) => d.modules);

/** The kind built from a YAML module name (aliases included), or undefined. */
export function blockForModule(name: string): AnyDef | undefined {
  return BY_MODULE.get(name);
}

/** The canonical YAML module name for a name or alias, or undefined when no kind builds it. */
export function canonicalModule(name: string): string | undefined {
  return BY_MODULE.get(name)?.modules[0];
}

function defOf<K extends Block['kind']>(block: BlockOf<K>): BlockDef<K> {
  const def = BY_KIND.get(block.kind);
  if (def === undefined) throw new Error(`no block kind '${block.kind}' in the registry`);
  return def as unknown as BlockDef<K>;
}

/** The block's tensors in state_dict order (parameters and buffers interleaved per submodule). */
export function blockTensors(block: Block, module: number): TensorSpec[] {
  return defOf(block).tensors(block, module);
}

/** Stride factors a block applies (convs with stride > 1, Focus's space-to-depth). */
export function blockStrides(block: Block): number[] {
  return defOf(block).strides?.(block) ?? [];
}

/** Runs a block on its inputs (one tensor except for Concat). Detect is run by the model. */
export function runBlock(ctx: BlockContext, block: Block, inputs: readonly tf.Tensor4D[]): tf.Tensor4D {
  const x = inputs[0];
  if (x === undefined) throw new Error(`${block.kind} got no input`);
  return defOf(block).run(ctx, block, x, inputs);
}

/** Output size and MACs of a block on a single input of size h x w. */
export function blockGeometry(block: Block, h: number, w: number): Geometry {
  return defOf(block).geometry(block, h, w);
}

/** Architecture row figures of a module from the size of its input at each position. */
export function blockArch(
  block: Block,
  c2: number,
  inSize: (position: number) => { h: number; w: number },
): ArchFigures {
  const def = defOf(block);
  if (def.arch) return def.arch(block, inSize);
  const s = inSize(0);
  const g = def.geometry(block, s.h, s.w);
  return { outShape: [c2, g.h, g.w], macs: g.macs, size: { h: g.h, w: g.w } };
}

/** The memory estimate's factor of a YAML module (3, a Conv's, for a kind that gives none). */
export function savedPerOutput(moduleName: string): number {
  return blockForModule(moduleName)?.savedPerOutput ?? 3;
}

/** Whether a kind's output channels count against MAX_CHANNELS. */
export function channelLimited(def: AnyDef): boolean {
  return def.channelLimit ?? true;
}
