/**
 * Inference on one image, following YOLOv5 v7.0 detect.py: letterbox with minimal stride padding,
 * /255, eval-mode forward and decode, NMS (conf 0.25, IoU 0.45, max_det 1000), boxes scaled back
 * to original pixels and rounded. Also the memory-lean eval forward the validator shares.
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { roundHalfEven } from '../eval/numpy.js';
import type { ForwardState, YoloModel } from '../model/forward.js';
import { detectBlock } from '../model/graph.js';
import { type LetterboxOptions, type LetterboxResult, letterbox, toFloatInput } from './letterbox.js';
import { nonMaxSuppression, scaleBoxes } from './nms.js';
import { type Interpolation, type RgbImage, resizeImage } from './resize.js';

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

/**
 * Decodes an image as YOLOv5's cv2.imread does: EXIF orientation applied, embedded ICC profile
 * ignored. (`loadImageRgb` lets sharp convert through the profile: bus.jpg carries Display P3
 * and then differs from OpenCV by up to 52 levels in red, moving confidences by 0.02; with the
 * profile ignored the decode is bit-identical to the reference input.) Throws naming the file.
 */
export async function readImageAsOpenCv(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file, { failOn: 'truncated', ignoreIcc: true })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: info.channels,
    };
  } catch (e) {
    throw new ImageReadError(file, (e as Error).message.split('\n')[0] ?? String(e), { cause: e });
  }
}

/** An image file that cannot be decoded (missing, corrupt, not an image). */
export class ImageReadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    opts?: ErrorOptions,
  ) {
    super(`Cannot read image ${file}: ${reason}`, opts);
    this.name = 'ImageReadError';
  }
}

/**
 * cv2.resize including OpenCV's integer-factor INTER_AREA shortcut (resizeAreaFast), which
 * `resizeImage` lacks: a shrink by whole factors (and an exact 2x INTER_LINEAR shrink, which
 * OpenCV turns into INTER_AREA) averages whole cells with integer rounding, `(sum + 2) >> 2` for
 * 2x2. Without it, zidane.jpg (1280x720 -> 640x360) differs on 12% of its pixels by one level
 * and a detection's confidence moves by 0.011. Other cases go to `resizeImage`.
 */
export function resizeAsOpenCv(img: RgbImage, width: number, height: number, interp: Interpolation): RgbImage {
  const sx = img.width / width;
  const sy = img.height / height;
  const fast =
    Number.isInteger(sx) &&
    Number.isInteger(sy) &&
    sx >= 1 &&
    sy >= 1 &&
    sx * sy > 1 &&
    (interp === 'area' || (sx === 2 && sy === 2));
  return fast ? resizeAreaFast(img, sx, sy) : resizeImage(img, width, height, interp);
}

/** OpenCV resizeAreaFast_ (imgproc/resize.cpp) for 8-bit images and whole factors. */
function resizeAreaFast(img: RgbImage, sx: number, sy: number): RgbImage {
  const cn = img.channels;
  const width = img.width / sx;
  const height = img.height / sy;
  const src = img.data;
  const srcRow = img.width * cn;
  const out = new Uint8Array(width * height * cn);
  const scale = Math.fround(1 / (sx * sy));
  for (let dy = 0; dy < height; dy++) {
    for (let dx = 0; dx < width; dx++) {
      for (let c = 0; c < cn; c++) {
        let sum = 0;
        for (let j = 0; j < sy; j++) {
          const row = (dy * sy + j) * srcRow + dx * sx * cn + c;
          for (let i = 0; i < sx; i++) sum += src[row + i * cn]!;
        }
        // ResizeAreaFastVec for 2x2; otherwise saturate_cast<uchar>(sum * (1.f / area)).
        out[(dy * width + dx) * cn + c] =
          sx === 2 && sy === 2 ? (sum + 2) >> 2 : Math.min(255, roundHalfEven(Math.fround(sum * scale)));
      }
    }
  }
  return { data: out, width, height, channels: cn };
}

/**
 * `letterbox` with the resize done by {@link resizeAsOpenCv}: the image is first resized to the
 * unpadded size letterbox would compute, then padded (the second letterbox does not resize).
 * `ratio` is reported against the original image. scaleFill is passed through unchanged.
 */
export function letterboxAsOpenCv(img: RgbImage, opts: LetterboxOptions): LetterboxResult {
  if (opts.scaleFill) return letterbox(img, opts);
  const [nh, nw] = typeof opts.newShape === 'number' ? [opts.newShape, opts.newShape] : opts.newShape;
  let r = Math.min(nh / img.height, nw / img.width);
  if (opts.scaleup === false) r = Math.min(r, 1);
  const uw = roundHalfEven(img.width * r);
  const uh = roundHalfEven(img.height * r);
  const resized =
    uw === img.width && uh === img.height ? img : resizeAsOpenCv(img, uw, uh, opts.interpolation ?? 'linear');
  // uw <= nw and uh <= nh, so with scaleup off this letterbox only pads.
  const lb = letterbox(resized, { ...opts, scaleup: false });
  return { ...lb, ratio: [r, r] };
}

/** Detections of an already decoded image (see {@link detectImage}). */
export async function detectRgb(
  model: YoloModel,
  names: readonly string[],
  img: RgbImage,
  opts: DetectOptions = {},
): Promise<DetectResult> {
  const t0 = performance.now();
  const stride = modelStride(model);
  const size = checkImgSize(opts.imgSize ?? 640, stride);
  // detect.py LoadImages: letterbox(im0, img_size, stride, auto=True), INTER_LINEAR, scaleup.
  const lb = letterboxAsOpenCv(img, { newShape: size, auto: true, stride });
  const inputShape: [number, number] = [lb.image.height, lb.image.width];
  const input = tf.tensor4d(toFloatInput(lb.image), [1, inputShape[0], inputShape[1], 3]);
  let decoded: tf.Tensor3D;
  try {
    decoded = predict(model, input);
  } finally {
    input.dispose();
  }
  const [, n = 0, no = 5] = decoded.shape;
  let data: Float32Array;
  try {
    data = (await decoded.data()) as Float32Array;
  } finally {
    decoded.dispose();
  }
  const dets = nonMaxSuppression(data, n, no - 5, {
    confThres: opts.conf ?? 0.25,
    iouThres: opts.iou ?? 0.45,
    maxDet: opts.maxDet ?? 1000,
    ...(opts.classes ? { classes: opts.classes } : {}),
    ...(opts.agnostic ? { agnostic: true } : {}),
  });
  const originalShape: [number, number] = [img.height, img.width];
  // detect.py: scale_boxes(im.shape[2:], det[:, :4], im0.shape).round() (gain and pad from shapes).
  scaleBoxes(inputShape, dets.boxes, originalShape);
  const detections: Detection[] = [];
  for (let k = 0; k < dets.count; k++) {
    const b = dets.boxes;
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
  return { detections, inputShape, originalShape, ms: performance.now() - t0 };
}

/**
 * Runs the model on one image file as YOLOv5 detect.py does. `names` maps class ids to names
 * (e.g. from `resolveModelSource`). Every tensor it creates is disposed before it returns.
 */
export async function detectImage(
  model: YoloModel,
  names: readonly string[],
  file: string,
  opts: DetectOptions = {},
): Promise<DetectResult> {
  return detectRgb(model, names, await readImageAsOpenCv(file), opts);
}
