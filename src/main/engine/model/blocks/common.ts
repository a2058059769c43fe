/**
 * What every block kind file implements ({@link BlockDef}) and the helpers they share. A kind is
 * one file under `blocks/`, listed once in `registry.ts`; nothing else switches on block kinds.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ArchArg } from '../../../../shared/arch.js';
import type { Block, ConvSpec, TensorSpec } from '../blocks.js';
import type { BlockContext } from '../layers.js';

/** The block of one kind. */
export type BlockOf<K extends Block['kind']> = Extract<Block, { kind: K }>;

/** Output size and multiply-accumulates of a block (thop's count, see arch.ts). */
export interface Geometry {
  h: number;
  w: number;
  macs: number;
}

/** What a kind's builder gets from parse_model for one YAML row (see graph.ts). */
export interface BuildContext {
  /** Throws ModelYamlError naming the file, line and module. */
  fail(msg: string): never;
  /** Arguments after parse_model's evaluation (nc, anchors, None, True/False). */
  readonly args: readonly ArchArg[];
  /** Repeats after depth scaling. */
  readonly nScaled: number;
  /** `model.{i}`. */
  readonly prefix: string;
  /** Absolute source indices. */
  readonly inputs: readonly number[];
  /** The single source index; fails when 'from' lists several. */
  single(): number;
  chOf(j: number): number;
  strideOf(j: number): number;
  /** Whole-number argument j (default when absent or None). */
  num(j: number, def: number | undefined, what: string, min?: number): number;
  bool(j: number, def: boolean, what: string): boolean;
  /** Fails on groups other than 1 at argument j. */
  groupsOk(j: number): void;
}

/** What a fixed (not width-scaled) kind's builder returns. */
export interface FixedBuild<K extends Block['kind']> {
  readonly block: BlockOf<K>;
  readonly c2: number;
  readonly stride: number;
  /** Constructor arguments when they differ from the evaluated YAML args. */
  readonly ctorArgs?: ArchArg[];
}

/**
 * How a kind is built from its YAML row:
 * - `unit`: width-scaled output channels (args[0]); n > 1 repeats become nn.Sequential of units;
 * - `inner`: width-scaled, with the scaled n inserted as the third constructor argument and the
 *   repeats inside one module (C3, BottleneckCSP);
 * - `fixed`: 'number' must be 1, the builder computes channels and stride itself.
 */
export type BlockBuild<K extends Block['kind']> =
  | { readonly mode: 'unit'; make(ctx: BuildContext, prefix: string, c1: number, c2: number): BlockOf<K> }
  | { readonly mode: 'inner'; make(ctx: BuildContext, c1: number, c2: number): BlockOf<K> }
  | { readonly mode: 'fixed'; make(ctx: BuildContext): FixedBuild<K> };

/** The architecture row figures of a block (arch.ts). */
export interface ArchFigures {
  readonly outShape: number[];
  readonly macs: number;
  readonly size: { h: number; w: number };
  /** Output strides (Detect). */
  readonly strides?: number[];
}

/** Everything about one block kind. */
export interface BlockDef<K extends Block['kind']> {
  readonly kind: K;
  /** YAML module names (canonical spelling) this kind is built from; empty for internal kinds. */
  readonly modules: readonly string[];
  /** Aliases normalised to modules[0] (e.g. `Upsample` for `nn.Upsample`). */
  readonly aliases?: readonly string[];
  readonly build?: BlockBuild<K>;
  /**
   * Intermediate tensors training keeps per output element of this kind (conv output, normalised
   * output, activation input; C3 keeps its hidden branches): the memory estimate's factor, for
   * kinds built from a YAML module (an architecture row takes its YAML module's).
   */
  readonly savedPerOutput?: number;
  /** Whether output channels count against MAX_CHANNELS (default true). */
  readonly channelLimit?: boolean;
  /** Parameters and buffers in state_dict order. */
  tensors(block: BlockOf<K>, module: number): TensorSpec[];
  /** Stride factors the block applies. */
  strides?(block: BlockOf<K>): number[];
  /** Runs the block (NHWC) on its first input `x`; `inputs` holds all of them (Concat). */
  run(ctx: BlockContext, block: BlockOf<K>, x: tf.Tensor4D, inputs: readonly tf.Tensor4D[]): tf.Tensor4D;
  /** Output size and MACs on a single input of size h x w. */
  geometry(block: BlockOf<K>, h: number, w: number): Geometry;
  /**
   * Architecture row figures from the size of its input at each position (default: the geometry
   * of the first input, output shape [c2, h, w]).
   */
  arch?(block: BlockOf<K>, inSize: (position: number) => { h: number; w: number }): ArchFigures;
}

/** Types a kind definition. */
export function defineBlock<K extends Block['kind']>(def: BlockDef<K>): BlockDef<K> {
  return def;
}

/** A Conv (conv + BN + optional SiLU) spec named as models/common.py Conv registers it. */
export function convSpec(
  prefix: string,
  c1: number,
  c2: number,
  k: number,
  s: number,
  pad: number | null = null,
  act = true,
): ConvSpec {
  return { weight: `${prefix}.conv.weight`, bn: `${prefix}.bn`, act, c1, c2, k, s, p: pad ?? Math.floor(k / 2) };
}

export function bnTensors(prefix: string, c: number, module: number): TensorSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [c], kind: 'param', module },
    { name: `${prefix}.bias`, shape: [c], kind: 'param', module },
    { name: `${prefix}.running_mean`, shape: [c], kind: 'buffer', module },
    { name: `${prefix}.running_var`, shape: [c], kind: 'buffer', module },
    { name: `${prefix}.num_batches_tracked`, shape: [], kind: 'buffer', module },
  ];
}

export function convTensors(module: number, ...cs: readonly ConvSpec[]): TensorSpec[] {
  return cs.flatMap((c) => {
    const out: TensorSpec[] = [{ name: c.weight, shape: [c.c2, c.c1, c.k, c.k], kind: 'param', module }];
    if (c.bias) out.push({ name: c.bias, shape: [c.c2], kind: 'param', module });
    if (c.bn) out.push(...bnTensors(c.bn, c.c2, module));
    return out;
  });
}

function convOut(size: number, c: ConvSpec): number {
  return Math.floor((size + 2 * c.p - c.k) / c.s) + 1;
}

/** Runs one conv over a map of size h x w, adding thop's count (a fused BN counts as a bias). */
export function applyConv(g: Geometry, c: ConvSpec): Geometry {
  const h = convOut(g.h, c);
  const w = convOut(g.w, c);
  return { h, w, macs: g.macs + h * w * c.c2 * (c.c1 * c.k * c.k + (c.bn || c.bias ? 1 : 0)) };
}
