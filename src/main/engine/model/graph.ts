/**
 * Builds the module graph of a YOLOv5 model from its YAML config, following YOLOv5 models/yolo.py
 * parse_model (v7.0): depth/width scaling, channel bookkeeping, Detect strides and anchors.
 */
import type { FreezeGraphSummary } from '../../../shared/freeze.js';
import type { ArchArg, ModelSection } from '../../../shared/arch.js';
import { roundHalfEven } from '../eval/numpy.js';
import { blockTensors } from './blocks.js';
import type { Block, BottleneckBlock, ConvSpec, TensorSpec } from './blocks.js';
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
    const conv = (
      prefix: string,
      c1: number,
      c2: number,
      k: number,
      s: number,
      pad: number | null = null,
      act = true,
    ): ConvSpec => ({
      weight: `${prefix}.conv.weight`,
      bn: `${prefix}.bn`,
      act,
      c1,
      c2,
      k,
      s,
      p: pad ?? Math.floor(k / 2),
    });
    const bottleneck = (prefix: string, c1: number, c2: number, shortcut: boolean, e: number): BottleneckBlock => {
      const c = Math.trunc(c2 * e);
      return {
        kind: 'Bottleneck',
        cv1: conv(`${prefix}.cv1`, c1, c, 1, 1),
        cv2: conv(`${prefix}.cv2`, c, c2, 3, 1),
        add: shortcut && c1 === c2,
      };
    };
    const groupsOk = (j: number): void => {
      const g = args[j];
      if (g !== undefined && g !== 1) fail(`grouped convolutions (g=${JSON.stringify(g)}) are not supported`);
    };

    let block: Block;
    let c2: number;
    let ctorArgs: ArchArg[];
    let stride: number;
    let repeats = nScaled;
    let type = moduleName === 'nn.Upsample' ? 'Upsample' : moduleName;
    if (['Conv', 'C3', 'SPPF', 'SPP', 'Bottleneck', 'BottleneckCSP', 'Focus'].includes(moduleName)) {
      const src = single();
      const c1 = chOf(src);
      const c2raw = num(0, undefined, 'output channels');
      c2 = c2raw !== no ? makeDivisible(c2raw * gw, 8) : c2raw;
      ctorArgs = [c1, c2, ...args.slice(1)];
      stride = strideOf(src);
      const make = (prefix: string, cin: number): Block => {
        switch (moduleName) {
          case 'Conv': {
            groupsOk(4);
            if (args[5] !== undefined && args[5] !== 1) fail('dilated convolutions are not supported');
            const act = args[6] ?? true;
            if (typeof act !== 'boolean')
              fail(`activation ${JSON.stringify(act)} is not supported (only SiLU or none)`);
            const pad = args[3] ?? null;
            return {
              kind: 'Conv',
              conv: conv(
                prefix,
                cin,
                c2,
                num(1, 1, 'kernel'),
                num(2, 1, 'stride'),
                pad === null ? null : num(3, 0, 'padding', 0),
                act as boolean,
              ),
            };
          }
          case 'Focus': {
            groupsOk(4);
            const pad = args[3] ?? null;
            const focusConv = conv(
              `${prefix}.conv`,
              cin * 4,
              c2,
              num(1, 1, 'kernel'),
              num(2, 1, 'stride'),
              pad === null ? null : num(3, 0, 'padding', 0),
              bool(5, true, 'act'),
            );
            return { kind: 'Focus', conv: focusConv };
          }
          case 'Bottleneck': {
            groupsOk(2);
            const e = typeof args[3] === 'number' ? args[3] : 0.5;
            return bottleneck(prefix, cin, c2, bool(1, true, 'shortcut'), e);
          }
          case 'SPPF': {
            const c = Math.floor(cin / 2);
            return {
              kind: 'SPPF',
              cv1: conv(`${prefix}.cv1`, cin, c, 1, 1),
              cv2: conv(`${prefix}.cv2`, c * 4, c2, 1, 1),
              k: num(1, 5, 'kernel'),
            };
          }
          default: {
            // SPP
            const k = args[1] ?? [5, 9, 13];
            if (!Array.isArray(k) || !k.every((x) => typeof x === 'number' && Number.isInteger(x) && x % 2 === 1)) {
              return fail(`SPP kernels must be a list of odd sizes like [5, 9, 13], got ${JSON.stringify(k)}`);
            }
            const ks = k as number[];
            const c = Math.floor(cin / 2);
            return {
              kind: 'SPP',
              cv1: conv(`${prefix}.cv1`, cin, c, 1, 1),
              cv2: conv(`${prefix}.cv2`, c * (ks.length + 1), c2, 1, 1),
              ks,
            };
          }
        }
      };
      if (moduleName === 'C3' || moduleName === 'BottleneckCSP') {
        // parse_model inserts the scaled n as the third constructor argument and builds one module.
        ctorArgs.splice(2, 0, nScaled);
        const shortcut = bool(1, true, 'shortcut');
        groupsOk(2);
        const e = typeof args[3] === 'number' ? args[3] : 0.5;
        const c = Math.trunc(c2 * e);
        const m = Array.from({ length: nScaled }, (_, k) => bottleneck(`${p}.m.${k}`, c, c, shortcut, 1.0));
        if (moduleName === 'C3') {
          block = {
            kind: 'C3',
            cv1: conv(`${p}.cv1`, c1, c, 1, 1),
            cv2: conv(`${p}.cv2`, c1, c, 1, 1),
            cv3: conv(`${p}.cv3`, 2 * c, c2, 1, 1),
            m,
          };
        } else {
          const bare = (name: string, a: number, b: number): ConvSpec => ({
            weight: `${name}.weight`,
            act: false,
            c1: a,
            c2: b,
            k: 1,
            s: 1,
            p: 0,
          });
          block = {
            kind: 'BottleneckCSP',
            cv1: conv(`${p}.cv1`, c1, c, 1, 1),
            cv2: bare(`${p}.cv2`, c1, c),
            cv3: bare(`${p}.cv3`, c, c),
            cv4: conv(`${p}.cv4`, 2 * c, c2, 1, 1),
            bn: `${p}.bn`,
            bnChannels: 2 * c,
            m,
          };
        }
      } else if (nScaled > 1) {
        if (c1 !== c2) fail(`${nScaled} repeats need equal input and output channels (${c1} -> ${c2})`);
        block = { kind: 'Sequential', items: Array.from({ length: nScaled }, (_, k) => make(`${p}.${k}`, c1)) };
      } else {
        block = make(p, c1);
      }
      for (const c of blockStrides(block)) stride *= c;
    } else {
      if (nScaled > 1) fail(`'number' must be 1 for ${moduleName}, got ${row.number}`);
      repeats = 1;
      ctorArgs = [...args];
      if (moduleName === 'nn.Upsample') {
        const src = single();
        if (args[0] !== null && args[0] !== undefined)
          fail('Upsample by output size is not supported; use [None, 2, nearest]');
        const scale = num(1, undefined, 'scale factor');
        if ((args[2] ?? 'nearest') !== 'nearest')
          fail(`only 'nearest' upsampling is supported, got ${JSON.stringify(args[2])}`);
        c2 = chOf(src);
        stride = strideOf(src) / scale;
        block = { kind: 'Upsample', scale };
      } else if (moduleName === 'Concat') {
        if ((args[0] ?? 1) !== 1)
          fail(`only Concat over channels (dimension 1) is supported, got ${JSON.stringify(args[0])}`);
        const ss = inputs.map(strideOf);
        if (ss.some((s) => s !== ss[0]))
          fail(`joins maps of different strides (${ss.join(', ')}) from modules ${inputs.join(', ')}`);
        c2 = inputs.reduce((a, j) => a + chOf(j), 0);
        stride = ss[0] ?? 1;
        block = { kind: 'Concat' };
      } else {
        // Detect: args [nc, anchors]; an int anchor count becomes placeholder anchors (AutoAnchor).
        const dnc = num(0, undefined, 'nc');
        const anc = args[1];
        const nl = inputs.length;
        let levels: number[][];
        if (typeof anc === 'number' && Number.isInteger(anc) && anc > 0) {
          levels = Array.from({ length: nl }, () => Array.from({ length: anc * 2 }, (_, k) => k));
        } else if (Array.isArray(anc) && anc.every((l) => Array.isArray(l) && l.every((x) => typeof x === 'number'))) {
          levels = anc as number[][];
        } else {
          return fail(
            `argument 1 (anchors) must be 'anchors', a list of levels or a count, got ${JSON.stringify(anc)}`,
          );
        }
        if (levels.length !== nl)
          fail(`${levels.length} anchor levels for ${nl} inputs; give one anchors row per Detect input`);
        const dna = (levels[0]?.length ?? 0) / 2;
        if (levels.some((l) => l.length !== dna * 2 || l.length % 2 !== 0))
          fail('every anchors level needs the same even number of values');
        const chs = inputs.map(chOf);
        ctorArgs = [dnc, levels, chs];
        const dstrides = inputs.map(strideOf);
        c2 = dna * (dnc + 5);
        stride = dstrides[dstrides.length - 1] ?? 1;
        type = 'Detect';
        block = {
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
        };
      }
    }
    if (type !== 'Detect' && c2 > MODEL_LIMITS.MAX_CHANNELS) {
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

/** Stride factors a block applies (convs with stride > 1, Focus's space-to-depth). */
function blockStrides(block: Block): number[] {
  switch (block.kind) {
    case 'Conv':
      return [block.conv.s];
    case 'Focus':
      return [2, block.conv.s];
    case 'Sequential':
      return block.items.flatMap(blockStrides);
    default:
      return [];
  }
}

/** The Detect block of a graph. */
export function detectBlock(graph: ModelGraph): Extract<Block, { kind: 'Detect' }> {
  const b = graph.modules[graph.summary.detectIndex]?.block;
  if (b?.kind !== 'Detect') throw new Error('graph has no Detect module');
  return b;
}
