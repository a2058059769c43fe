/**
 * Predictions against labels over a dataset split: the images go through val's pipeline (the same
 * scan, rectangular batches, letterbox, NMS at val's conf 0.001 / IoU 0.6 multi-label, max_det 300,
 * boxes scaled back to original pixels; see validate.ts), and each image is compared with its labels
 * by `compareImage` (disagreements.ts). Detections of an image are therefore exactly those val
 * scores, and its TP at IoU 0.5 exactly what val's matcher marks correct at 0.5.
 */
import path from 'node:path';
import type { PixelBox, PredictionImage, PredictionTotals } from '../../../shared/commands/predictions.js';
import { FreezeLabError } from '../../../shared/result.js';
import type { DataConfig, SplitName } from '../data/config.js';
import type { ImageScan } from '../data/scan.js';
import { type LoadedValBatch, type LoadedValImage, loadValBatch, planValBatches } from '../data/val-loader.js';
import { checkImgSize, detectBatch, modelStride } from '../infer/detect.js';
import { type Detections, type NmsOptions, scaleBoxes } from '../infer/nms.js';
import type { YoloModel } from '../model/forward.js';
import type { BatchDetector } from '../parallel/data-parallel.js';
import { compareImage, disagreementOrder, type ImageComparison } from './disagreements.js';
import { scanSplit } from './validate.js';

export interface PredictSplitOptions {
  readonly data: DataConfig;
  readonly split?: SplitName;
  /** The split already scanned (skips listing and scanning). */
  readonly images?: readonly ImageScan[];
  readonly imgSize?: number;
  readonly batchSize?: number;
  /** Display confidence (0.25) and the confidence an unlabelled detection needs to be listed (0.5). */
  readonly conf?: number;
  readonly confident?: number;
  /** NMS IoU (val's 0.6); NMS keeps detections from val's conf 0.001 for matching. */
  readonly iou?: number;
  readonly matchConf?: number;
  readonly maxDet?: number;
  readonly signal?: AbortSignal;
  /** Images done of total, after each batch. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Batches run elsewhere (replica threads); absent: `model` runs here. */
  readonly detector?: BatchDetector;
  /**
   * Called for each image with every detection val keeps (corner boxes in original pixels, NMS
   * order), its labels and the comparison: for callers that want more than the result holds.
   */
  readonly onImage?: (image: PredictionImage, dets: Detections, labels: LoadedValImage, c: ImageComparison) => void;
}

export interface PredictSplitResult {
  readonly images: PredictionImage[];
  readonly totals: PredictionTotals;
  readonly imgSize: number;
  readonly seconds: number;
}

/** Rounds a pixel coordinate for the result (sub-pixel precision is noise on screen and in CSV). */
const r2 = (v: number): number => Math.round(v * 100) / 100;
const roundBox = (b: PixelBox): PixelBox => ({ x: r2(b.x), y: r2(b.y), w: r2(b.w), h: r2(b.h) });

/** Runs `model` over a split and compares every image with its labels; images disagreements first. */
export async function predictSplit(model: YoloModel, opts: PredictSplitOptions): Promise<PredictSplitResult> {
  const cfg = opts.data;
  const split = opts.split ?? 'val';
  if (model.graph.nc !== cfg.nc) {
    throw new FreezeLabError(
      'bad-file',
      `The model has ${model.graph.nc} classes but ${cfg.yamlFile} has ${cfg.nc}.`,
      'Use weights trained on this dataset, or a data YAML with the same classes.',
    );
  }
  opts.signal?.throwIfAborted();
  const scans = opts.images ?? (await scanSplit(cfg, split));
  const stride = modelStride(model);
  const imgSize = checkImgSize(opts.imgSize ?? 640, stride);
  const plan = planValBatches(scans, { imgSize, batchSize: Math.max(1, Math.floor(opts.batchSize ?? 16)), stride });
  const total = plan.reduce((a, b) => a + b.images.length, 0);
  if (total === 0) {
    throw new FreezeLabError(
      'bad-file',
      `The '${split}' split of ${cfg.yamlFile} has no usable image.`,
      "Run 'freezelab check' on the dataset to see what is wrong with its images.",
    );
  }
  const nms: NmsOptions = {
    confThres: opts.matchConf ?? 0.001,
    iouThres: opts.iou ?? 0.6,
    maxDet: opts.maxDet ?? 300,
    multiLabel: true,
  };
  const compareOpts = { conf: opts.conf ?? 0.25, confident: opts.confident ?? 0.5 };
  const infer = async (data: Float32Array, shape: readonly [number, number, number]): Promise<readonly Detections[]> =>
    opts.detector
      ? (await opts.detector.detect(data, shape, nms)).detections
      : (await detectBatch(model, data, shape, nms)).detections;
  const depth = Math.max(1, opts.detector?.concurrency ?? 1);
  const out: PredictionImage[] = [];
  const t0 = performance.now();
  const load = (i: number): Promise<LoadedValBatch> | undefined => {
    const b = plan[i];
    if (!b) return undefined;
    const p = loadValBatch(b, imgSize);
    p.catch(() => undefined);
    return p;
  };
  const finish = async (entry: { batch: LoadedValBatch; dets: Promise<readonly Detections[]> }): Promise<void> => {
    const { batch } = entry;
    const dets = await entry.dets;
    batch.images.forEach((im, k) => {
      const d = dets[k];
      if (!d) throw new Error(`predictions: no detections for image ${k} of a batch of ${batch.images.length}`);
      scaleBoxes(batch.shape, d.boxes, im.originalShape, im.ratioPad);
      const lines = im.scan.rows.map((row) => row.line);
      const c = compareImage(
        { boxes: d.boxes, conf: d.scores, cls: d.classes },
        { boxes: im.boxes, cls: im.cls, lines },
        compareOpts,
      );
      const corner = (b: ArrayLike<number>, i: number) => ({
        x: r2(b[i * 4]!),
        y: r2(b[i * 4 + 1]!),
        w: r2(b[i * 4 + 2]! - b[i * 4]!),
        h: r2(b[i * 4 + 3]! - b[i * 4 + 1]!),
      });
      const image: PredictionImage = {
        path: im.scan.imageFile,
        name: path.basename(im.scan.imageFile),
        labelFile: im.scan.labelFile,
        width: im.originalShape[1],
        height: im.originalShape[0],
        labels: Array.from(im.cls, (cls, i) => ({ cls, line: lines[i] ?? 0, ...corner(im.boxes, i) })),
        predictions: Array.from({ length: c.shown }, (_, i) => ({
          cls: d.classes[i]!,
          conf: Math.round(d.scores[i]! * 1e4) / 1e4,
          ...corner(d.boxes, i),
        })),
        tp: c.tp,
        fp: c.fp,
        fn: c.fn,
        disagreements: c.disagreements.map((x) => ({
          ...x,
          box: roundBox(x.box),
          ...(x.predBox ? { predBox: roundBox(x.predBox) } : {}),
          ...(x.conf !== undefined ? { conf: Math.round(x.conf * 1e4) / 1e4 } : {}),
        })),
        score: c.score,
      };
      out.push(image);
      opts.onImage?.(image, d, im, c);
    });
    opts.onProgress?.(out.length, total);
  };
  const inflight: { batch: LoadedValBatch; dets: Promise<readonly Detections[]> }[] = [];
  let next = load(0);
  try {
    for (let bi = 0; bi < plan.length; bi++) {
      opts.signal?.throwIfAborted();
      const batch = await next!;
      next = load(bi + 1);
      const dets = infer(batch.data, [batch.images.length, batch.shape[0], batch.shape[1]]);
      dets.catch(() => undefined);
      inflight.push({ batch, dets });
      if (inflight.length >= depth) await finish(inflight.shift()!);
    }
    while (inflight.length > 0) await finish(inflight.shift()!);
  } finally {
    await Promise.allSettled(inflight.map((e) => e.dets));
  }
  return { images: disagreementOrder(out), totals: totalsOf(out), imgSize, seconds: (performance.now() - t0) / 1000 };
}

/** Sums of the per-image counts. */
export function totalsOf(images: readonly PredictionImage[]): PredictionTotals {
  const t = { tp: 0, fp: 0, fn: 0, missed: 0, unlabelled: 0, confusions: 0, imagesWithDisagreements: 0 };
  for (const im of images) {
    t.tp += im.tp;
    t.fp += im.fp;
    t.fn += im.fn;
    for (const d of im.disagreements) {
      if (d.kind === 'missed') t.missed++;
      else if (d.kind === 'unlabelled') t.unlabelled++;
      else t.confusions++;
    }
    if (im.disagreements.length) t.imagesWithDisagreements++;
  }
  return t;
}
