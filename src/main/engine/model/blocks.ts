/**
 * The building blocks of a YOLOv5 graph (pure data, no tensors) and the PyTorch state_dict names
 * and shapes they hold. Constructors and registration order follow YOLOv5 models/common.py.
 */

/** A convolution, optionally followed by BatchNorm and SiLU (`Conv`) or bare (`nn.Conv2d`). */
export interface ConvSpec {
  /** Name of the weight, e.g. `model.0.conv.weight` or `model.24.m.0.weight`. */
  readonly weight: string;
  /** Name of the bias when the conv has one (Detect outputs). */
  readonly bias?: string;
  /** BatchNorm prefix, e.g. `model.0.bn`, when followed by BatchNorm. */
  readonly bn?: string;
  /** SiLU after BatchNorm. */
  readonly act: boolean;
  readonly c1: number;
  readonly c2: number;
  readonly k: number;
  readonly s: number;
  /** Padding on every side (PyTorch style, symmetric). */
  readonly p: number;
}

/** Bottleneck: cv1 1x1, cv2 3x3, residual when `add`. */
export interface BottleneckBlock {
  readonly kind: 'Bottleneck';
  readonly cv1: ConvSpec;
  readonly cv2: ConvSpec;
  readonly add: boolean;
}

/** Every block kind the forward pass runs. */
export type Block =
  | { readonly kind: 'Conv'; readonly conv: ConvSpec }
  | BottleneckBlock
  | {
      readonly kind: 'C3';
      readonly cv1: ConvSpec;
      readonly cv2: ConvSpec;
      readonly cv3: ConvSpec;
      readonly m: readonly BottleneckBlock[];
    }
  | {
      readonly kind: 'BottleneckCSP';
      readonly cv1: ConvSpec;
      /** Bare 1x1 convs (nn.Conv2d, no bias). */
      readonly cv2: ConvSpec;
      readonly cv3: ConvSpec;
      readonly cv4: ConvSpec;
      /** BatchNorm over the concatenation (2*c_ channels), then SiLU. */
      readonly bn: string;
      readonly bnChannels: number;
      readonly m: readonly BottleneckBlock[];
    }
  | { readonly kind: 'SPPF'; readonly cv1: ConvSpec; readonly cv2: ConvSpec; readonly k: number }
  | { readonly kind: 'SPP'; readonly cv1: ConvSpec; readonly cv2: ConvSpec; readonly ks: readonly number[] }
  | { readonly kind: 'Focus'; readonly conv: ConvSpec }
  | { readonly kind: 'Upsample'; readonly scale: number }
  | { readonly kind: 'Concat' }
  | {
      readonly kind: 'Detect';
      readonly nc: number;
      /** Anchors per level. */
      readonly na: number;
      /** `model.{i}.anchors`, shape [nl, na, 2], stored divided by stride as YOLOv5 does. */
      readonly anchorsName: string;
      /** Anchors in input pixels, [level][anchor] = [w, h]. */
      readonly anchorPixels: readonly (readonly (readonly [number, number])[])[];
      readonly strides: readonly number[];
      /** 1x1 output convs with bias, out channels na*(5+nc). */
      readonly convs: readonly ConvSpec[];
    }
  /** n > 1 copies of a non-C3 module (nn.Sequential): names gain `.{k}`. */
  | { readonly kind: 'Sequential'; readonly items: readonly Block[] };

/** A named tensor of the model in PyTorch layout. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: 'param' | 'buffer';
  /** Module (YAML row) index. */
  readonly module: number;
}

function bnTensors(prefix: string, c: number, module: number): TensorSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [c], kind: 'param', module },
    { name: `${prefix}.bias`, shape: [c], kind: 'param', module },
    { name: `${prefix}.running_mean`, shape: [c], kind: 'buffer', module },
    { name: `${prefix}.running_var`, shape: [c], kind: 'buffer', module },
    { name: `${prefix}.num_batches_tracked`, shape: [], kind: 'buffer', module },
  ];
}

function convTensors(c: ConvSpec, module: number): TensorSpec[] {
  const out: TensorSpec[] = [{ name: c.weight, shape: [c.c2, c.c1, c.k, c.k], kind: 'param', module }];
  if (c.bias) out.push({ name: c.bias, shape: [c.c2], kind: 'param', module });
  if (c.bn) out.push(...bnTensors(c.bn, c.c2, module));
  return out;
}

/** The block's tensors in state_dict order (parameters and buffers interleaved per submodule). */
export function blockTensors(block: Block, module: number): TensorSpec[] {
  const convs = (...cs: ConvSpec[]): TensorSpec[] => cs.flatMap((c) => convTensors(c, module));
  const bottlenecks = (ms: readonly BottleneckBlock[]): TensorSpec[] => ms.flatMap((b) => blockTensors(b, module));
  switch (block.kind) {
    case 'Conv':
    case 'Focus':
      return convs(block.conv);
    case 'Bottleneck':
      return convs(block.cv1, block.cv2);
    case 'C3':
      return [...convs(block.cv1, block.cv2, block.cv3), ...bottlenecks(block.m)];
    case 'BottleneckCSP':
      return [
        ...convs(block.cv1, block.cv2, block.cv3, block.cv4),
        ...bnTensors(block.bn, block.bnChannels, module),
        ...bottlenecks(block.m),
      ];
    case 'SPPF':
    case 'SPP':
      return convs(block.cv1, block.cv2);
    case 'Upsample':
    case 'Concat':
      return [];
    case 'Detect':
      return [
        { name: block.anchorsName, shape: [block.strides.length, block.na, 2], kind: 'buffer', module },
        ...convs(...block.convs),
      ];
    case 'Sequential':
      return block.items.flatMap((b) => blockTensors(b, module));
  }
}

/** Every ConvSpec in a block (for FLOPs and initialisation). */
export function blockConvs(block: Block): ConvSpec[] {
  switch (block.kind) {
    case 'Conv':
    case 'Focus':
      return [block.conv];
    case 'Bottleneck':
      return [block.cv1, block.cv2];
    case 'C3':
      return [block.cv1, block.cv2, block.cv3, ...block.m.flatMap(blockConvs)];
    case 'BottleneckCSP':
      return [block.cv1, block.cv2, block.cv3, block.cv4, ...block.m.flatMap(blockConvs)];
    case 'SPPF':
    case 'SPP':
      return [block.cv1, block.cv2];
    case 'Upsample':
    case 'Concat':
      return [];
    case 'Detect':
      return [...block.convs];
    case 'Sequential':
      return block.items.flatMap(blockConvs);
  }
}
