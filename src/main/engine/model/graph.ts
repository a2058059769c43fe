/**
 * Builds the module graph of a YOLOv5 model from its YAML config, following YOLOv5 models/yolo.py
 * parse_model (v7.0): depth/width scaling, channel bookkeeping, Detect strides and anchors.
 */
import type { FreezeGraphSummary } from '../../../shared/freeze.js';
import type { ArchArg, ModelSection } from '../../../shared/arch.js';
import { roundHalfEven } from '../eval/numpy.js';
import type { Block, TensorSpec } from './blocks.js';
import type { BuildContext } from './blocks/common.js';
import { blockForModule, blockStrides, blockTensors, channelLimited } from './blocks/registry.js';
import { canonicalModuleName, MODEL_LIMITS, ModelYamlError } from './yaml.js';
import type { LayerRow, ModelYaml, YamlArg } from './yaml.js';

/** One module (YAML row) of the graph. */
export interface ModuleNode {
  readonly index: number;
  /** YAML "from" as written. */
  readonly from: number | readonly number[];
  /** Absolute source indices (-1 = the input image for module 0). */
  readonly inputs: readonly number[];
  /** YAML "number" before scaling. */
  readonly n: number;
  /** Repeats after depth scaling. */
  readonly repeats: number;
  /** YOLOv5 class name (`Upsample` for nn.Upsample). */
  readonly type: string;
  readonly yamlArgs: readonly YamlArg[];
  /** Constructor arguments after scaling, as parse_model passes them. */
  readonly args: readonly ArchArg[];
  readonly section: ModelSection;
  readonly block: Block;
  /** Output channels (for Detect: na*(5+nc)). */
  readonly c2: number;
  /** Downsampling factor of the output relative to the input image. */
  readonly stride: number;
}

/** A built graph: modules, tensor names/shapes, and what presets need. */
export interface ModelGraph {
  readonly source: string;
  readonly nc: number;
  readonly depthMultiple: number;
  readonly widthMultiple: number;
  readonly modules: readonly ModuleNode[];
  /** Parameters and buffers in state_dict order. */
  readonly tensors: readonly TensorSpec[];
  readonly summary: FreezeGraphSummary;
  /** Modules whose outputs are used by a later module other than the next one (YOLOv5 `save`). */
  readonly save: ReadonlySet<number>;
}

/** Options for {@link buildGraph}. */
export interface BuildGraphOptions {
  /** Override the YAML's nc (YOLOv5 Model(cfg, nc=...)). */
  readonly nc?: number;
}

/** YOLOv5 utils/general.py make_divisible. */
export function makeDivisible(x: number, divisor = 8): number {
  return Math.ceil(x / divisor) * divisor;
}

/** Builds the graph; throws {@link ModelYamlError} naming the file, line and module on bad rows. */
export function buildGraph(cfg: ModelYaml, opts: BuildGraphOptions = {}): ModelGraph {
  const nc = opts.nc ?? cfg.nc;
  if (!Number.isInteger(nc) || nc < 1)
    throw new ModelYamlError(`${cfg.source}: nc must be a whole number >= 1, got ${nc}`);
  if (nc > MODEL_LIMITS.MAX_NC)
    throw new ModelYamlError(`${cfg.source}: nc is ${nc}, over the limit of ${MODEL_LIMITS.MAX_NC} (MAX_NC)`);
  const gd = cfg.depthMultiple;
  const gw = cfg.widthMultiple;
  const anchorsCfg = cfg.anchors;
  const na = typeof anchorsCfg === 'number' ? anchorsCfg : (anchorsCfg[0]?.length ?? 0) / 2;
  const no = na * (nc + 5);
  const rows: { row: LayerRow; section: ModelSection }[] = [
    ...cfg.backbone.map((row) => ({ row, section: 'backbone' as const })),
    ...cfg.head.map((row) => ({ row, section: 'head' as const })),
  ];
  const ch: number[] = [];
  const strides: number[] = [];
  const modules: ModuleNode[] = [];
  const save = new Set<number>();

  rows.forEach(({ row, section }, i) => {
    const where = `${cfg.source}${row.line === undefined ? '' : `: line ${row.line}`}: module ${i} (${row.module})`;
    const fail = (msg: string): never => {
      throw new ModelYamlError(`${where}: ${msg}`);
    };
    const moduleName = canonicalModuleName(row.module) ?? fail(`unknown module '${row.module}'`);
    const abs = (f: number): number => {
      const j = f < 0 ? i + f : f;
      if (i === 0 && f === -1) return -1;
      if (j < 0 || j >= i) fail(`'from' ${f} does not name an earlier module (0-${i - 1})`);
      return j;
    };
    const inputs = (Array.isArray(row.from) ? row.from : [row.from]).map((f: number) => abs(f));
    for (const j of inputs) if (j !== i - 1 && j >= 0) save.add(j);
    const chOf = (j: number): number => (j < 0 ? 3 : (ch[j] ?? 0));
    const strideOf = (j: number): number => (j < 0 ? 1 : (strides[j] ?? 1));
    const single = (): number => {
      if (inputs.length !== 1) fail(`takes one input, 'from' lists ${inputs.length}`);
      return inputs[0] ?? -1;
    };
    // parse_model evaluates string args: nc, anchors, None, True/False; others stay strings.
    const evalArg = (a: YamlArg): ArchArg => {
      if (typeof a !== 'string') return a;
      if (a === 'None') return null;
      if (a === 'True' || a === 'False') return a === 'True';
      if (a === 'nc') return nc;
      if (a === 'anchors') return typeof anchorsCfg === 'number' ? anchorsCfg : anchorsCfg.map((l) => [...l]);
      return a;
    };
    const args = row.args.map(evalArg);
    const num = (j: number, def: number | undefined, what: string, min = 1): number => {
      const v = args[j] ?? def;
      if (v === null && def !== undefined) return def;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        return fail(`argument ${j} (${what}) must be a whole number >= ${min}, got ${JSON.stringify(args[j])}`);
      }
      return v;
    };
    const bool = (j: number, def: boolean, what: string): boolean => {
      const v = args[j] ?? def;
      if (typeof v !== 'boolean')
        return fail(`argument ${j} (${what}) must be True or False, got ${JSON.stringify(v)}`);
      return v;
    };
    const nScaled = row.number > 1 ? Math.max(roundHalfEven(row.number * gd), 1) : row.number;
    const p = `model.${i}`;
    const def = blockForModule(moduleName) ?? fail(`unknown module '${row.module}'`);
    const build = def.build ?? fail(`unknown module '${row.module}'`);
    const ctx: BuildContext = {
      fail,
      args,
      nScaled,
      prefix: p,
      inputs,
      single,
      chOf,
      strideOf,
      num,
      bool,
      groupsOk: (j) => {
        const g = args[j];
        if (g !== undefined && g !== 1) fail(`grouped convolutions (g=${JSON.stringify(g)}) are not supported`);
      },
    };

    let block: Block;
    let c2: number;
    let ctorArgs: ArchArg[];
    let stride: number;
    let repeats = nScaled;
    const type = def.kind;
    if (build.mode !== 'fixed') {
      const src = single();
      const c1 = chOf(src);
      const c2raw = num(0, undefined, 'output channels');
      c2 = c2raw !== no ? makeDivisible(c2raw * gw, 8) : c2raw;
      ctorArgs = [c1, c2, ...args.slice(1)];
      stride = strideOf(src);
      if (build.mode === 'inner') {
        // parse_model inserts the scaled n as the third constructor argument and builds one module.
        ctorArgs.splice(2, 0, nScaled);
        block = build.make(ctx, c1, c2);
      } else if (nScaled > 1) {
        if (c1 !== c2) fail(`${nScaled} repeats need equal input and output channels (${c1} -> ${c2})`);
        const unit = build;
        const cOut = c2;
        block = {
          kind: 'Sequential',
          items: Array.from({ length: nScaled }, (_, k) => unit.make(ctx, `${p}.${k}`, c1, cOut)),
        };
      } else {
        block = build.make(ctx, p, c1, c2);
      }
      for (const c of blockStrides(block)) stride *= c;
    } else {
      if (nScaled > 1) fail(`'number' must be 1 for ${moduleName}, got ${row.number}`);
      repeats = 1;
      const built = build.make(ctx);
      ctorArgs = built.ctorArgs ?? [...args];
      block = built.block;
      c2 = built.c2;
      stride = built.stride;
    }
    if (channelLimited(def) && c2 > MODEL_LIMITS.MAX_CHANNELS) {
      fail(`${c2} output channels after width scaling, over the limit of ${MODEL_LIMITS.MAX_CHANNELS} (MAX_CHANNELS)`);
    }
    ch.push(c2);
    strides.push(stride);
    modules.push({
      index: i,
      from: row.from,
      inputs,
      n: row.number,
      repeats,
      type,
      yamlArgs: row.args,
      args: ctorArgs,
      section,
      block,
      c2,
      stride,
    });
  });

  const detects = modules.filter((m) => m.type === 'Detect');
  const last = modules[modules.length - 1];
  if (detects.length !== 1 || last?.type !== 'Detect') {
    throw new ModelYamlError(`${cfg.source}: the last head row must be the model's only Detect module`);
  }
  // counted from shapes alone, before any weight is allocated
  const tensors = modules.flatMap((m) => blockTensors(m.block, m.index));
  const parameters = tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
  if (parameters > MODEL_LIMITS.MAX_PARAMETERS) {
    throw new ModelYamlError(
      `${cfg.source}: the model would have ${parameters.toExponential(2)} parameters, over the limit of ${MODEL_LIMITS.MAX_PARAMETERS.toExponential(0)} (MAX_PARAMETERS)`,
    );
  }
  return {
    source: cfg.source,
    nc,
    depthMultiple: gd,
    widthMultiple: gw,
    modules,
    tensors,
    summary: { moduleCount: modules.length, backboneCount: cfg.backbone.length, detectIndex: last.index },
    save,
  };
}

/** The Detect block of a graph. */
export function detectBlock(graph: ModelGraph): Extract<Block, { kind: 'Detect' }> {
  const b = graph.modules[graph.summary.detectIndex]?.block;
  if (b?.kind !== 'Detect') throw new Error('graph has no Detect module');
  return b;
}
