/**
 * Architecture description of a YOLOv5 model, shown by the UI and the CLI (types only).
 * Built by `src/main/engine/model/arch.ts`.
 */
import type { FreezeGraphSummary } from './freeze.js';

/** Which section of the model YAML a module row came from. */
export type ModelSection = 'backbone' | 'head';

/** A YAML argument after evaluation as YOLOv5's parse_model does (`None` -> null). */
export type ArchArg = number | string | boolean | null | readonly ArchArg[];

/** One module (one YAML row). */
export interface ArchModuleRow {
  readonly index: number;
  /** YAML "from": -1, an index, or a list of them. */
  readonly from: number | readonly number[];
  /** YAML "number" before depth scaling. */
  readonly n: number;
  /** Repeats after depth scaling: `max(round(n * depth_multiple), 1)` when n > 1. */
  readonly repeats: number;
  /** Module type as YOLOv5 names the class: Conv, C3, SPPF, Upsample, Concat, Detect, ... */
  readonly type: string;
  /** Arguments as written in the YAML. */
  readonly yamlArgs: readonly ArchArg[];
  /** Constructor arguments after scaling (c1, c2, ...), as parse_model passes them. */
  readonly args: readonly ArchArg[];
  /** Trainable-parameter count (buffers excluded). */
  readonly params: number;
  /**
   * Output shape at the described image size: [C, H, W]; for Detect the decoded predictions
   * [N, 5 + nc] (one row per anchor and cell over all levels).
   */
  readonly outShape: readonly number[];
  /** Convolution FLOPs (2 x multiply-accumulates, as thop counts them) at the image size. */
  readonly flops: number;
  /**
   * Intermediate tensors training keeps per output element (from the module's block kind, in the
   * engine's block registry): the training memory estimate's factor.
   */
  readonly savedPerOutput: number;
  readonly section: ModelSection;
}

/** One parameter (trainable tensor) in PyTorch naming and layout. */
export interface ArchParamRow {
  /** state_dict name, e.g. `model.2.m.0.cv1.conv.weight`. */
  readonly name: string;
  /** PyTorch shape (conv weights OIHW). */
  readonly shape: readonly number[];
  readonly numel: number;
  /** Index of the module (YAML row) it belongs to. */
  readonly module: number;
  /** False when the described freeze spec freezes it. */
  readonly trainable: boolean;
}

/** A buffer (BatchNorm running statistics, counters, Detect anchors). */
export interface ArchBufferRow {
  readonly name: string;
  readonly shape: readonly number[];
  readonly module: number;
}

/** Everything the UI and CLI show about a model architecture. */
export interface ArchDescription {
  /** e.g. `yolov5n` or the YAML file's base name. */
  readonly name: string;
  readonly nc: number;
  readonly depthMultiple: number;
  readonly widthMultiple: number;
  /** Square image size the shapes and FLOPs are given for. */
  readonly imgSize: number;
  /** Detect strides per level, e.g. [8, 16, 32]. */
  readonly strides: readonly number[];
  readonly modules: readonly ArchModuleRow[];
  readonly parameters: readonly ArchParamRow[];
  readonly buffers: readonly ArchBufferRow[];
  readonly totalParams: number;
  /** Sum of module FLOPs at imgSize. */
  readonly totalFlops: number;
  /** Module indices the described freeze spec freezes (empty when none given). */
  readonly frozenModules: readonly number[];
  readonly trainableParams: number;
  readonly frozenParams: number;
  readonly summary: FreezeGraphSummary;
}
