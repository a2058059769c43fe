/**
 * A model (weights file, checkpoint, built-in name or YAML) to ONNX bytes: resolved and loaded as
 * every other command loads it (model/source.ts), its tensors read back from the model's
 * variables, then written by {@link buildOnnxModel}. {@link exportOnnxInThread} does the same in a
 * worker thread, so a large model does not hold up the service's event loop.
 */
import { FreezeLabError } from '../../../shared/result.js';
import { detectBlock } from '../model/graph.js';
import { instantiateModel, resolveModelSource } from '../model/source.js';
import { runOneShotThread } from '../parallel/one-shot.js';
import { buildOnnxModel } from './onnx.js';

export interface OnnxExportRequest {
  /** What the user named: a weights file, a checkpoint, a model YAML or a built-in name. */
  readonly spec: string;
  /** Square input size; must be a multiple of the model's largest stride. */
  readonly imgSize: number;
  readonly opset: number;
  readonly version: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface OnnxExportOutput {
  readonly bytes: Uint8Array;
  /** The model's label (file name or built-in name). */
  readonly label: string;
  readonly names: readonly string[];
  /** False for a bare architecture (fresh weights). */
  readonly trained: boolean;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly opset: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Resolves, loads and exports a model on the current tfjs backend. */
export async function exportOnnx(req: OnnxExportRequest): Promise<OnnxExportOutput> {
  const src = await resolveModelSource(req.spec);
  const stride = Math.max(...detectBlock(src.graph).strides);
  if (req.imgSize % stride !== 0) {
    throw new FreezeLabError(
      'invalid-input',
      `Image size ${req.imgSize} is not a multiple of ${src.label}'s largest stride (${stride}).`,
      `Use a multiple of ${stride}, e.g. ${Math.ceil(req.imgSize / stride) * stride}.`,
    );
  }
  const { model } = instantiateModel(src);
  let tensors;
  try {
    tensors = model.exportTensors();
  } finally {
    model.dispose();
  }
  const onnx = buildOnnxModel(src.graph, tensors, {
    height: req.imgSize,
    width: req.imgSize,
    names: src.names,
    opset: req.opset,
    version: req.version,
    metadata: { ...req.metadata, freezelab_source: src.label },
  });
  return {
    bytes: onnx.bytes,
    label: src.label,
    names: [...src.names],
    trained: src.weights !== undefined,
    inputShape: onnx.inputShape,
    outputShape: onnx.outputShape,
    opset: onnx.opset,
    metadata: onnx.metadata,
  };
}

/** Time allowed for one export (a yolov5x .pt takes a few seconds). */
const EXPORT_TIMEOUT_MS = 600_000;

/** {@link exportOnnx} in a worker thread (tfjs CPU backend there; the variables only hold data). */
export function exportOnnxInThread(req: OnnxExportRequest): Promise<OnnxExportOutput> {
  return runOneShotThread<OnnxExportOutput>(import.meta.url, './onnx-thread', req, {
    timeoutMs: EXPORT_TIMEOUT_MS,
    maxHeapMb: 4096,
    what: `Exporting ${req.spec}`,
    hint: 'The file may be damaged or far larger than a YOLOv5 model.',
  });
}
