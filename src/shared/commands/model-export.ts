/** Model export (ONNX) commands (spread into `commands` by contract.ts). */
import { z } from 'zod';
import { command } from '../command.js';
import { imgSizeSchema, modelSpecSchema, pathSchema, runIdSchema } from '../train-config.js';

/** Formats `model.export` writes. */
export const MODEL_EXPORT_FORMATS = ['onnx'] as const;
export type ModelExportFormat = (typeof MODEL_EXPORT_FORMATS)[number];

/** ONNX opsets the export writes: 12 (YOLOv5's default) or later, up to what it is checked with. */
export const ONNX_OPSET_MIN = 12;
export const ONNX_OPSET_MAX = 17;

/** What `model.export` wrote. */
export interface ModelExportResult {
  /** Every file written, absolute paths (what a download offers). */
  readonly files: readonly string[];
  readonly format: ModelExportFormat;
  /** The weights exported: a file, or a built-in model's name. */
  readonly source: string;
  /** The run and which of its checkpoints, when exported by run id. */
  readonly runId?: number;
  readonly checkpoint?: 'best' | 'last';
  readonly opset: number;
  /** [1, 3, H, W] */
  readonly inputShape: readonly number[];
  /** [1, N, 5 + nc]: YOLOv5's export output (xywh in input pixels, objectness, class scores). */
  readonly outputShape: readonly number[];
  readonly names: readonly string[];
  /** Size of the model file in bytes. */
  readonly bytes: number;
  /** E.g. the weights hold no trained weights, or a run had no best checkpoint. */
  readonly warning?: string;
}

export const modelExportCommands = {
  /**
   * Export a model (a weights file, or a run's best checkpoint) to ONNX: input `images` [1, 3, H, W]
   * (RGB, 0-1, H = W = imgSize), output `output0` [1, N, 5 + nc], class names in the metadata.
   * Writes `<name>.onnx` into `out` (made if needed; default: the data folder's exports folder,
   * where served mode downloads from); an existing file is refused unless `force`.
   */
  'model.export': command<ModelExportResult>()(
    z
      .object({
        weights: modelSpecSchema.optional(),
        runId: runIdSchema.optional(),
        format: z.enum(MODEL_EXPORT_FORMATS).default('onnx'),
        out: pathSchema.optional(),
        imgSize: imgSizeSchema.default(640),
        opset: z
          .number()
          .int()
          .min(ONNX_OPSET_MIN, `the ONNX export needs opset ${ONNX_OPSET_MIN} or later`)
          .max(ONNX_OPSET_MAX, `opsets above ${ONNX_OPSET_MAX} are not supported yet`)
          .default(ONNX_OPSET_MIN),
        force: z.boolean().default(false),
      })
      .strict()
      .refine((a) => (a.weights === undefined) !== (a.runId === undefined), {
        message: 'give either weights or a run id, not both and not neither',
        path: ['weights'],
      }),
  ),
} as const;
