/**
 * The building blocks of a YOLOv5 graph (pure data, no tensors). What each kind builds, holds and
 * runs lives in its file under `blocks/`, found through `blocks/registry.ts`.
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
