/**
 * ONNX export of a FreezeLab model, built directly from its module graph (the graph built from the
 * official YAML) and its tensors, as YOLOv5 v7.0 export.py writes it: BatchNorm folded into the
 * convolutions (models/yolo.py fuse), SiLU as Sigmoid x Mul, nearest Upsample as Resize with
 * scales, MaxPool for SPP/SPPF, and Detect in export mode (models/yolo.py Detect.forward):
 * sigmoid, xy = (sig * 2 + grid) * stride with the grid shifted by -0.5, wh = (sig * 2)^2 *
 * anchor_grid, concatenated over the levels to one output [1, N, 5 + nc] named `output0`; the
 * input is `images` [1, 3, H, W] (RGB, 0-1). Weights are float32 initializers.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { ONNX_OPSET_MAX, ONNX_OPSET_MIN } from '../../../shared/commands/model-export.js';
import { FreezeLabError } from '../../../shared/result.js';
import type { HostTensor, NamedTensors } from '../host-tensor.js';
import type { Block, BottleneckBlock, ConvSpec } from '../model/blocks.js';
import { blockGeometry } from '../model/blocks/registry.js';
import type { ModelGraph } from '../model/graph.js';
import { BN_EPS } from '../model/kernels.js';

const { onnx } = onnxProto;

/** Names of the graph's input and output, as YOLOv5's export names them. */
export const ONNX_INPUT = 'images';
export const ONNX_OUTPUT = 'output0';

export interface OnnxExportOptions {
  /** Input height and width (multiples of the model's largest stride). */
  readonly height: number;
  readonly width: number;
  /** Class names in class-index order (length nc). */
  readonly names: readonly string[];
  readonly opset?: number;
  /** FreezeLab's version, written as producer_version and `freezelab_version`. */
  readonly version: string;
  /** Extra metadata_props (e.g. where the weights came from). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface OnnxExport {
  readonly bytes: Uint8Array;
  readonly inputShape: readonly [1, 3, number, number];
  readonly outputShape: readonly [1, number, number];
  readonly opset: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A Python str repr (what YOLOv5's `str(dict)` writes for each name). */
export function pythonStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** YOLOv5's `names` metadata: `str({0: 'person', 1: 'bicycle'})`. */
export function namesMetadata(names: readonly string[]): string {
  return `{${names.map((n, i) => `${i}: ${pythonStr(n)}`).join(', ')}}`;
}

/** Parses YOLOv5's `names` metadata back (the inverse of {@link namesMetadata}, for checks). */
export function parseNamesMetadata(text: string): string[] {
  const out: string[] = [];
  const re = /(\d+): (?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  for (const m of text.matchAll(re)) {
    const raw = m[2] ?? m[3] ?? '';
    out[Number(m[1])] = raw.replace(/\\x([0-9a-f]{2})|\\(.)/g, (_all, hex: string | undefined, c: string) =>
      hex !== undefined
        ? String.fromCharCode(parseInt(hex, 16))
        : c === 'n'
          ? '\n'
          : c === 'r'
            ? '\r'
            : c === 't'
              ? '\t'
              : c,
    );
  }
  return out;
}

// Opsets ONNX_OPSET_MIN..MAX (12 is YOLOv5's export default): every op used here is the same in all of them.
const IR_VERSION_FOR = (opset: number): number => (opset <= 14 ? 7 : 8);

type Attr = OnnxTypes.IAttributeProto;
const A = onnx.AttributeProto.AttributeType;
const ints = (name: string, v: readonly number[]): Attr => ({ name, type: A.INTS, ints: [...v] });
const int = (name: string, v: number): Attr => ({ name, type: A.INT, i: v });
const str = (name: string, v: string): Attr => ({ name, type: A.STRING, s: new TextEncoder().encode(v) });

const INT64_MAX = 9223372036854775807n;

/** Collects nodes and initializers with unique names. */
class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  private count = 0;
  private readonly constants = new Map<string, string>();

  private fresh(base: string): string {
    return `${base}_${this.count++}`;
  }

  floats(name: string, dims: readonly number[], data: Float32Array): string {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw.slice() });
    return name;
  }

  int64s(name: string, values: readonly (number | bigint)[]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  /** A float constant shared by every node that uses the same value and shape. */
  constant(dims: readonly number[], values: readonly number[]): string {
    const key = `f${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.floats(this.fresh('const'), dims, Float32Array.from(values));
      this.constants.set(key, name);
    }
    return name;
  }

  /** An int64 vector constant, shared likewise. */
  intConstant(values: readonly (number | bigint)[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.int64s(this.fresh('const_i64'), values);
      this.constants.set(key, name);
    }
    return name;
  }

  node(op: string, inputs: readonly string[], hint: string, attrs: Attr[] = [], output?: string): string {
    const out = output ?? this.fresh(hint);
    this.nodes.push({
      opType: op,
      name: `${op}_${this.nodes.length}`,
      input: [...inputs],
      output: [out],
      attribute: attrs,
    });
    return out;
  }
}

/** Folds a conv's BatchNorm (and bias) into float32 weights and a bias, as YOLOv5's fuse does. */
function foldedConv(
  spec: ConvSpec,
  tensors: NamedTensors,
  bnPrefix: string | undefined,
): { weight: Float32Array; bias: Float32Array | undefined } {
  const get = (name: string): HostTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`ONNX export: model tensor ${name} missing`);
    return t;
  };
  const w = get(spec.weight).data as Float32Array;
  const bias = spec.bias ? (get(spec.bias).data as Float32Array) : undefined;
  if (!bnPrefix) return { weight: Float32Array.from(w), bias: bias ? Float32Array.from(bias) : undefined };
  const gamma = get(`${bnPrefix}.weight`).data as Float32Array;
  const beta = get(`${bnPrefix}.bias`).data as Float32Array;
  const mean = get(`${bnPrefix}.running_mean`).data as Float32Array;
  const variance = get(`${bnPrefix}.running_var`).data as Float32Array;
  const per = spec.c1 * spec.k * spec.k;
  const weight = new Float32Array(w.length);
  const b = new Float32Array(spec.c2);
  for (let o = 0; o < spec.c2; o++) {
    const scale = gamma[o]! / Math.sqrt(variance[o]! + BN_EPS);
    for (let j = 0; j < per; j++) weight[o * per + j] = w[o * per + j]! * scale;
    b[o] = beta[o]! - mean[o]! * scale + (bias ? bias[o]! * scale : 0);
  }
  return { weight, bias: b };
}

/** Size of a map while the graph is written (Detect needs its grids' sizes). */
interface Map2 {
  readonly name: string;
  readonly h: number;
  readonly w: number;
}

/** Writes the ONNX nodes of a model graph. */
class ModelWriter {
  readonly g = new GraphBuilder();
  private convs = 0;

  constructor(
    private readonly graph: ModelGraph,
    private readonly tensors: NamedTensors,
  ) {}

  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x], 'sig')], 'silu');
  }

  conv(spec: ConvSpec, x: string): string {
    const { weight, bias } = foldedConv(spec, this.tensors, spec.bn);
    const id = this.convs++;
    const base = spec.weight.replace(/\.weight$/, '');
    const inputs = [x, this.g.floats(`${base}.weight`, [spec.c2, spec.c1, spec.k, spec.k], weight)];
    if (bias) inputs.push(this.g.floats(`${base}.bias`, [spec.c2], bias));
    const y = this.g.node('Conv', inputs, `conv${id}`, [
      ints('kernel_shape', [spec.k, spec.k]),
      ints('strides', [spec.s, spec.s]),
      ints('pads', [spec.p, spec.p, spec.p, spec.p]),
      ints('dilations', [1, 1]),
      int('group', 1),
    ]);
    return spec.act ? this.silu(y) : y;
  }

  /** Standalone eval-mode BatchNorm + SiLU over channels (BottleneckCSP), as Mul and Add. */
  bnAct(prefix: string, c: number, x: string): string {
    const get = (n: string) => this.tensors.get(`${prefix}.${n}`)?.data as Float32Array | undefined;
    const [gamma, beta, mean, variance] = [get('weight'), get('bias'), get('running_mean'), get('running_var')];
    if (!gamma || !beta || !mean || !variance) throw new Error(`ONNX export: BatchNorm ${prefix} missing`);
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let o = 0; o < c; o++) {
      scale[o] = gamma[o]! / Math.sqrt(variance[o]! + BN_EPS);
      shift[o] = beta[o]! - mean[o]! * scale[o]!;
    }
    const s = this.g.floats(`${prefix}.scale`, [1, c, 1, 1], scale);
    const t = this.g.floats(`${prefix}.shift`, [1, c, 1, 1], shift);
    return this.silu(this.g.node('Add', [this.g.node('Mul', [x, s], 'bn_mul'), t], 'bn'));
  }

  maxPool(x: string, k: number): string {
    const p = Math.floor(k / 2);
    return this.g.node('MaxPool', [x], 'pool', [
      ints('kernel_shape', [k, k]),
      ints('strides', [1, 1]),
      ints('pads', [p, p, p, p]),
    ]);
  }

  concat(xs: readonly string[], axis: number): string {
    return this.g.node('Concat', xs, 'cat', [int('axis', axis)]);
  }

  slice(
    x: string,
    starts: readonly number[],
    ends: readonly (number | bigint)[],
    axes: readonly number[],
    steps?: readonly number[],
  ): string {
    const inputs = [x, this.g.intConstant(starts), this.g.intConstant(ends), this.g.intConstant(axes)];
    if (steps) inputs.push(this.g.intConstant(steps));
    return this.g.node('Slice', inputs, 'slice');
  }

  bottleneck(b: BottleneckBlock, x: string): string {
    const y = this.conv(b.cv2, this.conv(b.cv1, x));
    return b.add ? this.g.node('Add', [x, y], 'res') : y;
  }

  /** One block on its inputs (Detect is written by {@link detect}). */
  block(block: Block, inputs: readonly string[], type: string, index: number): string {
    const x = inputs[0];
    if (x === undefined) throw new Error(`ONNX export: module ${index} has no input`);
    switch (block.kind) {
      case 'Conv':
        return this.conv(block.conv, x);
      case 'Bottleneck':
        return this.bottleneck(block, x);
      case 'C3': {
        let a = this.conv(block.cv1, x);
        for (const b of block.m) a = this.bottleneck(b, a);
        return this.conv(block.cv3, this.concat([a, this.conv(block.cv2, x)], 1));
      }
      case 'BottleneckCSP': {
        let a = this.conv(block.cv1, x);
        for (const b of block.m) a = this.bottleneck(b, a);
        const cat = this.concat([this.conv(block.cv3, a), this.conv(block.cv2, x)], 1);
        return this.conv(block.cv4, this.bnAct(block.bn, block.bnChannels, cat));
      }
      case 'SPPF': {
        const a = this.conv(block.cv1, x);
        const y1 = this.maxPool(a, block.k);
        const y2 = this.maxPool(y1, block.k);
        const y3 = this.maxPool(y2, block.k);
        return this.conv(block.cv2, this.concat([a, y1, y2, y3], 1));
      }
      case 'SPP': {
        const a = this.conv(block.cv1, x);
        return this.conv(block.cv2, this.concat([a, ...block.ks.map((k) => this.maxPool(a, k))], 1));
      }
      case 'Focus': {
        // x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2] over (H, W).
        const part = (dy: number, dx: number) => this.slice(x, [dy, dx], [INT64_MAX, INT64_MAX], [2, 3], [2, 2]);
        return this.conv(block.conv, this.concat([part(0, 0), part(1, 0), part(0, 1), part(1, 1)], 1));
      }
      case 'Upsample': {
        const roi = this.g.constant([0], []);
        const scales = this.g.constant([4], [1, 1, block.scale, block.scale]);
        return this.g.node('Resize', [x, roi, scales], 'up', [
          str('mode', 'nearest'),
          str('coordinate_transformation_mode', 'asymmetric'),
          str('nearest_mode', 'floor'),
        ]);
      }
      case 'Concat':
        return this.concat(inputs, 1);
      case 'Sequential': {
        let y = x;
        for (const b of block.items) y = this.block(b, [y], type, index);
        return y;
      }
      default:
        throw new FreezeLabError(
          'invalid-input',
          `${this.graph.source}: module ${index} (${type}) cannot be exported to ONNX.`,
          'The ONNX export writes Conv, C3, BottleneckCSP, Bottleneck, SPP, SPPF, Focus, nn.Upsample, Concat and Detect.',
        );
    }
  }

  /** Detect in export mode: decoded boxes and scores of every level, [1, N, 5 + nc]. */
  detect(block: Extract<Block, { kind: 'Detect' }>, inputs: readonly Map2[]): { name: string; rows: number } {
    const anchors = this.tensors.get(block.anchorsName)?.data as Float32Array | undefined;
    if (!anchors) throw new Error(`ONNX export: ${block.anchorsName} missing`);
    const { na } = block;
    const no = block.nc + 5;
    const levels: string[] = [];
    let rows = 0;
    block.convs.forEach((spec, l) => {
      const input = inputs[l];
      if (!input) throw new Error(`ONNX export: Detect input ${l} missing`);
      const { h: ny, w: nx } = input;
      const stride = block.strides[l] ?? 1;
      const y = this.conv(spec, input.name);
      const r = this.g.node('Reshape', [y, this.g.intConstant([1, na, no, ny, nx])], 'det_view');
      const t = this.g.node('Transpose', [r], 'det_perm', [ints('perm', [0, 1, 3, 4, 2])]);
      const s = this.g.node('Sigmoid', [t], 'det_sig');
      const xy = this.slice(s, [0], [2], [4]);
      const wh = this.slice(s, [2], [4], [4]);
      const conf = this.slice(s, [4], [no], [4]);
      // Detect._make_grid: grid = (x, y) - 0.5; anchor_grid = anchors (grid units) * stride.
      const grid = new Float32Array(ny * nx * 2);
      for (let gy = 0; gy < ny; gy++)
        for (let gx = 0; gx < nx; gx++) {
          grid[(gy * nx + gx) * 2] = gx - 0.5;
          grid[(gy * nx + gx) * 2 + 1] = gy - 0.5;
        }
      const anchorGrid = new Float32Array(na * 2);
      for (let k = 0; k < na * 2; k++) anchorGrid[k] = anchors[l * na * 2 + k]! * stride;
      const gridName = this.g.floats(
        `${block.anchorsName.replace(/\.anchors$/, '')}.grid.${l}`,
        [1, 1, ny, nx, 2],
        grid,
      );
      const agName = this.g.floats(
        `${block.anchorsName.replace(/\.anchors$/, '')}.anchor_grid.${l}`,
        [1, na, 1, 1, 2],
        anchorGrid,
      );
      const two = this.g.constant([], [2]);
      const xyOut = this.g.node(
        'Mul',
        [this.g.node('Add', [this.g.node('Mul', [xy, two], 'xy2'), gridName], 'xyg'), this.g.constant([], [stride])],
        'xy',
      );
      const wh2 = this.g.node('Mul', [wh, two], 'wh2');
      const whOut = this.g.node('Mul', [this.g.node('Mul', [wh2, wh2], 'whsq'), agName], 'wh');
      const cat = this.concat([xyOut, whOut, conf], 4);
      levels.push(this.g.node('Reshape', [cat, this.g.intConstant([1, na * ny * nx, no])], 'det_out'));
      rows += na * ny * nx;
    });
    const name = this.g.node('Concat', levels, 'out', [int('axis', 1)], ONNX_OUTPUT);
    return { name, rows };
  }
}

/**
 * Builds the ONNX model of `graph` with `tensors` (PyTorch names and layout, e.g. a YoloModel's
 * exportTensors()). Throws FreezeLabError naming a module the export cannot write.
 */
export function buildOnnxModel(graph: ModelGraph, tensors: NamedTensors, opts: OnnxExportOptions): OnnxExport {
  const opset = opts.opset ?? ONNX_OPSET_MIN;
  if (!Number.isInteger(opset) || opset < ONNX_OPSET_MIN || opset > ONNX_OPSET_MAX) {
    throw new FreezeLabError(
      'invalid-input',
      `ONNX opset ${opset} is not supported.`,
      `Use an opset from ${ONNX_OPSET_MIN} to ${ONNX_OPSET_MAX}.`,
    );
  }
  if (opts.names.length !== graph.nc) {
    throw new Error(`ONNX export: ${opts.names.length} class names for a model of ${graph.nc} classes`);
  }
  const writer = new ModelWriter(graph, tensors);
  const maps = new Map<number, Map2>([[-1, { name: ONNX_INPUT, h: opts.height, w: opts.width }]]);
  let output: { name: string; rows: number } | undefined;
  for (const m of graph.modules) {
    const ins = m.inputs.map((j) => {
      const t = maps.get(j);
      if (!t) throw new Error(`ONNX export: output of module ${j} is not available for module ${m.index}`);
      return t;
    });
    if (m.block.kind === 'Detect') {
      output = writer.detect(m.block, ins);
      continue;
    }
    const first = ins[0]!;
    const size = blockGeometry(m.block, first.h, first.w);
    const name = writer.block(
      m.block,
      ins.map((t) => t.name),
      m.type,
      m.index,
    );
    maps.set(m.index, { name, h: size.h, w: size.w });
  }
  if (!output) throw new Error(`ONNX export: ${graph.source} has no Detect module`);
  const no = graph.nc + 5;
  const inputShape = [1, 3, opts.height, opts.width] as const;
  const outputShape = [1, output.rows, no] as const;
  const strides = graph.modules.flatMap((m) => (m.block.kind === 'Detect' ? m.block.strides : []));
  const metadata: Record<string, string> = {
    stride: String(Math.max(...strides)),
    names: namesMetadata(opts.names),
    freezelab_version: opts.version,
    imgsz: `[${opts.height}, ${opts.width}]`,
    ...opts.metadata,
  };
  const valueInfo = (name: string, dims: readonly number[]): OnnxTypes.IValueInfoProto => ({
    name,
    type: {
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    },
  });
  const model: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION_FOR(opset),
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'FreezeLab',
    producerVersion: opts.version,
    docString: `YOLOv5 ${graph.source} exported by FreezeLab ${opts.version}`,
    graph: {
      name: 'freezelab',
      node: writer.g.nodes,
      initializer: writer.g.initializers,
      input: [valueInfo(ONNX_INPUT, inputShape)],
      output: [valueInfo(ONNX_OUTPUT, outputShape)],
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, inputShape, outputShape, opset, metadata };
}
