/**
 * Inference on one image, following YOLOv5 v7.0 detect.py: letterbox with minimal stride padding,
 * /255, eval-mode forward and decode, NMS (conf 0.25, IoU 0.45, max_det 1000), boxes scaled back
 * to original pixels and rounded. Also the memory-lean eval forward the validator shares.
 */
import * as tf from '@tensorflow/tfjs';
import { roundHalfEven } from '../eval/numpy.js';
import type { ForwardState, YoloModel } from '../model/forward.js';
import { detectBlock } from '../model/graph.js';
import { loadImageRgb } from './image.js';
import { letterbox, toFloatInput } from './letterbox.js';
import { type Detections, nonMaxSuppression, type NmsOptions, scaleBoxes } from './nms.js';
import type { RgbImage } from './resize.js';

/** One detection in original image pixels. */
export interface Detection {
  readonly cls: number;
  readonly name: string;
  readonly conf: number;
  /** Corner box [x1, y1, x2, y2], rounded to whole pixels as detect.py does. */
  readonly xyxy: readonly [number, number, number, number];
}

/** Options of {@link detectImage}; defaults are detect.py's. */
export interface DetectOptions {
  /** Long side of the network input (640); rounded up to a multiple of the model stride. */
  readonly imgSize?: number;
  /** Confidence threshold (0.25). */
  readonly conf?: number;
  /** NMS IoU threshold (0.45). */
  readonly iou?: number;
  /** Maximum detections kept (1000). */
  readonly maxDet?: number;
  /** Keep only these class ids. */
  readonly classes?: readonly number[];
  /** Class-agnostic NMS. */
  readonly agnostic?: boolean;
}

/** What {@link detectImage} found. */
export interface DetectResult {
  readonly detections: Detection[];
  /** Network input [height, width] after letterboxing (e.g. [640, 480] for bus.jpg). */
  readonly inputShape: readonly [number, number];
  /** Original image [height, width]. */
  readonly originalShape: readonly [number, number];
  /** Wall time of letterbox + forward + NMS, ms (image decoding excluded). */
  readonly ms: number;
}

/** Largest Detect stride of the model (32 for P5 models, 64 for P6). */
export function modelStride(model: YoloModel): number {
  return Math.max(...detectBlock(model.graph).strides);
}

/** YOLOv5 check_img_size: the image size rounded up to a multiple of the stride. */
export function checkImgSize(size: number, stride: number): number {
  if (!Number.isFinite(size) || size <= 0) throw new RangeError(`image size must be positive, got ${size}`);
  return Math.max(Math.ceil(size / stride) * stride, stride);
}

/** Peak live tensor bytes seen during {@link predict} calls (tf.memory().numBytes). */
export interface MemoryPeak {
  peakBytes: number;
}

/**
 * Eval-mode forward and decode of an NHWC batch [b, h, w, 3] (RGB, 0-1) to [b, N, 5+nc].
 * Runs one module per tf.tidy so each module's temporaries are freed at once: the peak is the
 * live feature maps plus one module's work, which lets batch 16 at 640 fit in WASM's 4 GiB.
 * The caller owns the returned tensor; `x` is not disposed.
 */
export function predict(model: YoloModel, x: tf.Tensor4D, peak?: MemoryPeak): tf.Tensor3D {
  const count = model.graph.modules.length;
  let state: ForwardState = model.begin(x);
  try {
    for (let i = 0; i < count; i++) {
      const prev = state;
      tf.tidy(() => {
        state = model.runModules(prev, i, i + 1, { training: false });
        for (const t of state.outputs.values()) tf.keep(t);
        for (const t of state.raws ?? []) tf.keep(t);
        if (peak) peak.peakBytes = Math.max(peak.peakBytes, tf.memory().numBytes);
      });
      // Free the maps no later module needs (never the caller's input).
      const live = new Set([...state.outputs.values(), ...(state.raws ?? [])]);
      for (const [j, t] of prev.outputs) if (j >= 0 && !live.has(t)) t.dispose();
    }
    if (!state.raws) throw new Error('predict: the model graph ended without a Detect module');
    return model.decode(state.raws);
  } finally {
    model.disposeState(state);
  }
}

/** Detections of each image of a batch, and where the time went. */
export interface BatchDetections {
  readonly detections: Detections[];
  /** Forward + decode + read-back, and NMS, in ms. */
  readonly inferenceMs: number;
  readonly nmsMs: number;
}

/**
 * Eval-mode forward, decode and NMS of an NHWC batch [n, h, w, 3] (RGB, 0-1): one NMS per image
 * on its rows of the decoded predictions. Shared by validation here and on replica threads.
 */
export async function detectBatch(
  model: YoloModel,
  images: Float32Array,
  shape: readonly [number, number, number],
  nms: NmsOptions,
  peak?: MemoryPeak,
): Promise<BatchDetections> {
  const [n, h, w] = shape;
  const t0 = performance.now();
  const x = tf.tensor4d(images, [n, h, w, 3]);
  let decoded: tf.Tensor3D;
  try {
    decoded = predict(model, x, peak);
  } finally {
    x.dispose();
  }
  const [, rows = 0, no = 5] = decoded.shape;
  let out: Float32Array;
  try {
    out = (await decoded.data()) as Float32Array;
  } finally {
    decoded.dispose();
  }
  const t1 = performance.now();
  const detections: Detections[] = [];
  for (let k = 0; k < n; k++) {
    detections.push(nonMaxSuppression(out.subarray(k * rows * no, (k + 1) * rows * no), rows, no - 5, nms));
  }
  return { detections, inferenceMs: t1 - t0, nmsMs: performance.now() - t1 };
}

/** The network input of one image as detect.py's LoadImages builds it. */
export interface DetectInput {
  /** NHWC float32 in [0, 1], one image. */
  readonly data: Float32Array;
  /** [height, width] after letterboxing. */
  readonly inputShape: readonly [number, number];
}

/** detect.py LoadImages: letterbox(im0, img_size, stride, auto=True), INTER_LINEAR, scaleup; /255. */
export function detectInput(img: RgbImage, imgSize: number, stride: number): DetectInput {
  const lb = letterbox(img, { newShape: checkImgSize(imgSize, stride), auto: true, stride });
  return { data: toFloatInput(lb.image), inputShape: [lb.image.height, lb.image.width] };
}

/** NMS options of detect.py from {@link DetectOptions} (its defaults). */
export function detectNms(opts: DetectOptions): NmsOptions {
  return {
    confThres: opts.conf ?? 0.25,
    iouThres: opts.iou ?? 0.45,
    maxDet: opts.maxDet ?? 1000,
    ...(opts.classes ? { classes: opts.classes } : {}),
    ...(opts.agnostic ? { agnostic: true } : {}),
  };
}

/**
 * One image's NMS output as detections in original pixels: detect.py's
 * scale_boxes(im.shape[2:], det[:, :4], im0.shape).round() (gain and pad from the shapes).
 * `dets.boxes` is scaled in place.
 */
export function toDetections(
  dets: Detections,
  inputShape: readonly [number, number],
  originalShape: readonly [number, number],
  names: readonly string[],
): Detection[] {
  scaleBoxes(inputShape, dets.boxes, originalShape);
  const detections: Detection[] = [];
  const b = dets.boxes;
  for (let k = 0; k < dets.count; k++) {
    const cls = dets.classes[k]!;
    detections.push({
      cls,
      name: names[cls] ?? String(cls),
      conf: dets.scores[k]!,
      xyxy: [
        roundHalfEven(b[k * 4]!),
        roundHalfEven(b[k * 4 + 1]!),
        roundHalfEven(b[k * 4 + 2]!),
        roundHalfEven(b[k * 4 + 3]!),
      ],
    });
  }
  return detections;
}

/** Detections of an already decoded image (see {@link detectImage}). */
export async function detectRgb(
  model: YoloModel,
  names: readonly string[],
  img: RgbImage,
  opts: DetectOptions = {},
): Promise<DetectResult> {
  const t0 = performance.now();
  const input = detectInput(img, opts.imgSize ?? 640, modelStride(model));
  const { inputShape } = input;
  const batch = await detectBatch(model, input.data, [1, inputShape[0], inputShape[1]], detectNms(opts));
  const originalShape: [number, number] = [img.height, img.width];
  const detections = toDetections(batch.detections[0]!, inputShape, originalShape, names);
  return { detections, inputShape, originalShape, ms: performance.now() - t0 };
}

/**
 * Runs the model on one image file as YOLOv5 detect.py does. `names` maps class ids to names
 * (e.g. from `resolveModelSource`). Every tensor it creates is disposed before it returns.
 * Throws `ImageReadError` (infer/image.ts) when the file cannot be decoded.
 */
export async function detectImage(
  model: YoloModel,
  names: readonly string[],
  file: string,
  opts: DetectOptions = {},
): Promise<DetectResult> {
  return detectRgb(model, names, await loadImageRgb(file), opts);
}
