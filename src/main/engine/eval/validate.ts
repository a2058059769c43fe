/**
 * Validation of a model on a dataset split, following YOLOv5 v7.0 val.py: rectangular batches,
 * conf 0.001, NMS IoU 0.6 with multi-label, max_det 300, boxes scaled back to original pixels,
 * metrics from the Evaluator. Used by `freezelab val` and by the trainer after each epoch.
 */
import type { EvalResult, ValidationFigures } from '../../../shared/metrics.js';
import { FreezeLabError } from '../../../shared/result.js';
import { type DataConfig, type SplitName, listSplitImages, loadDataConfig } from '../data/config.js';
import { type ImageScan, mapPool, scanImage } from '../data/scan.js';
import { type LoadedValBatch, loadValBatch, planValBatches } from '../data/val-loader.js';
import { checkImgSize, detectBatch, type MemoryPeak, modelStride } from '../infer/detect.js';
import { type Detections, type NmsOptions, scaleBoxes } from '../infer/nms.js';
import type { BatchDetector } from '../parallel/data-parallel.js';
import type { YoloModel } from '../model/forward.js';
import { Evaluator } from './evaluator.js';

/** Progress after each batch. */
export interface ValProgress {
  /** Batches done (1-based count) and in total. */
  readonly batch: number;
  readonly batches: number;
  /** Images done and in total. */
  readonly images: number;
  readonly totalImages: number;
  /** Seconds since the first batch started. */
  readonly seconds: number;
}

/** Options of {@link validate}. */
export interface ValidateOptions {
  /** A data YAML path or an already loaded config. */
  readonly data: string | DataConfig;
  /** Split to evaluate ('val'). */
  readonly split?: SplitName;
  /** The split already scanned (e.g. by the trainer): skips listing and scanning. */
  readonly images?: readonly ImageScan[];
  /** Long side of the input (640), rounded up to a multiple of the model stride. */
  readonly imgSize?: number;
  /** Images per forward pass (16). */
  readonly batchSize?: number;
  /** Confidence threshold (0.001), NMS IoU (0.6) and detections kept per image (300), as val.py. */
  readonly conf?: number;
  readonly iou?: number;
  readonly maxDet?: number;
  /** Called after every batch. */
  readonly onProgress?: (p: ValProgress) => void;
  /** Aborting stops before the next batch; `validate` then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Runs batches elsewhere (replica threads, see poolDetector), several at once; the model must
   * already be loaded there. Absent: `model` runs here, one batch at a time.
   */
  readonly detector?: BatchDetector;
  /**
   * Called with each image's predictions, in plan order (batch by batch, each batch's images in
   * order), after the batch was added to the metrics; awaited before the next image. See
   * {@link ValImagePredictions}. Its time counts neither as inference nor as NMS.
   */
  readonly onImage?: (p: ValImagePredictions) => void | Promise<void>;
}

/**
 * One image's predictions as val.py holds them in `predn` (what its save_one_txt writes): after
 * NMS (multi-label, conf, iou, max_det), boxes scaled back to the original image (scale_boxes,
 * clipped), float32. Read only: the arrays are the ones the metrics were computed from.
 */
export interface ValImagePredictions {
  readonly file: string;
  /** Original image [height, width] (after EXIF orientation). */
  readonly shape: readonly [number, number];
  /** `count` boxes x1, y1, x2, y2 in original pixels, their confidence and class. */
  readonly count: number;
  readonly boxes: Float32Array;
  readonly conf: Float32Array;
  readonly cls: Int32Array;
  /**
   * The ground truth they were scored against, as val.py has it: the label rows carried to the
   * letterboxed input and back with scale_boxes (one gain h/h0 for both axes), so a box may sit a
   * fraction of a pixel from `rows * [w0, h0]`. x1, y1, x2, y2 in original pixels and classes.
   */
  readonly labels: { readonly boxes: Float64Array; readonly cls: Int32Array };
}

/** Metrics plus how long it took. */
export interface ValidateResult extends EvalResult, ValidationFigures {
  readonly split: SplitName;
}

/** Lists and scans one split of a dataset (header decode; bad images are marked not ok). */
export async function scanSplit(cfg: DataConfig, split: SplitName): Promise<ImageScan[]> {
  const sources = cfg.splits[split];
  if (!sources) {
    throw new FreezeLabError(
      'bad-file',
      `${cfg.yamlFile} has no '${split}' split.`,
      `Add a '${split}:' entry (folder or image list) to the data YAML, or validate another split.`,
    );
  }
  const files = await listSplitImages(sources, cfg.root);
  return mapPool(files, 4, (f) => scanImage(f, cfg.nc, 'header'));
}

/** Runs YOLOv5 val.py's evaluation of `model` (already built, eval mode) on a dataset split. */
export async function validate(model: YoloModel, opts: ValidateOptions): Promise<ValidateResult> {
  const cfg = typeof opts.data === 'string' ? await loadDataConfig(opts.data) : opts.data;
  const split = opts.split ?? 'val';
  const nc = model.graph.nc;
  if (nc !== cfg.nc) {
    throw new FreezeLabError(
      'bad-file',
      `The model has ${nc} classes but ${cfg.yamlFile} has ${cfg.nc}.`,
      'Validate with weights trained on this dataset, or a data YAML with the same classes.',
    );
  }
  opts.signal?.throwIfAborted();
  const images = opts.images ?? (await scanSplit(cfg, split));
  const stride = modelStride(model);
  const imgSize = checkImgSize(opts.imgSize ?? 640, stride);
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 16));
  const plan = planValBatches(images, { imgSize, batchSize, stride });
  const totalImages = plan.reduce((a, b) => a + b.images.length, 0);
  if (totalImages === 0) {
    throw new FreezeLabError(
      'bad-file',
      `The '${split}' split of ${cfg.yamlFile} has no usable image.`,
      "Run 'freezelab check' on the dataset to see what is wrong with its images.",
    );
  }
  const evaluator = new Evaluator({ nc: cfg.nc, names: cfg.names });
  const peak: MemoryPeak = { peakBytes: 0 };
  const nmsOpts = {
    confThres: opts.conf ?? 0.001,
    iouThres: opts.iou ?? 0.6,
    maxDet: opts.maxDet ?? 300,
    multiLabel: true,
  };
  let inferenceMs = 0;
  let nmsMs = 0;
  let done = 0;
  /** Here: forward + decode + read-back timed apart from NMS, as val.py's profile does. */
  const local = async (data: Float32Array, shape: readonly [number, number, number], nms: NmsOptions) => {
    const r = await detectBatch(model, data, shape, nms, peak);
    inferenceMs += r.inferenceMs;
    nmsMs += r.nmsMs;
    return r.detections;
  };
  /** Elsewhere: the batch's wall time counts as inference (NMS runs there too). */
  const remote = async (data: Float32Array, shape: readonly [number, number, number], nms: NmsOptions) => {
    const t1 = performance.now();
    const r = await opts.detector!.detect(data, shape, nms);
    inferenceMs += performance.now() - t1;
    peak.peakBytes = Math.max(peak.peakBytes, r.peakBytes);
    return r.detections;
  };
  const infer = opts.detector ? remote : local;
  const depth = Math.max(1, opts.detector?.concurrency ?? 1);
  const t0 = performance.now();
  // The next batch decodes (sharp's threads) while this one runs through the network.
  const load = (i: number): Promise<LoadedValBatch> | undefined => {
    const b = plan[i];
    if (!b) return undefined;
    const p = loadValBatch(b, imgSize);
    p.catch(() => undefined); // a failure surfaces when awaited; never as an unhandled rejection
    return p;
  };
  /** Matches a batch's detections in plan order, so the metrics never depend on which batch finished first. */
  const finish = async (entry: { batch: LoadedValBatch; dets: Promise<readonly Detections[]> }, bi: number) => {
    const { batch } = entry;
    const dets = await entry.dets;
    const t2 = performance.now();
    batch.images.forEach((im, k) => {
      const d = dets[k];
      if (!d) throw new Error(`validation: no detections for image ${k} of a batch of ${batch.images.length}`);
      scaleBoxes(batch.shape, d.boxes, im.originalShape, im.ratioPad);
      evaluator.add({ boxes: d.boxes, conf: d.scores, cls: d.classes }, { boxes: im.boxes, cls: im.cls });
    });
    nmsMs += performance.now() - t2;
    if (opts.onImage) {
      for (let k = 0; k < batch.images.length; k++) {
        const im = batch.images[k]!;
        const d = dets[k]!;
        await opts.onImage({
          file: im.scan.imageFile,
          shape: im.originalShape,
          count: d.count,
          boxes: d.boxes,
          conf: d.scores,
          cls: d.classes,
          labels: { boxes: im.boxes, cls: im.cls },
        });
      }
    }
    done += batch.images.length;
    opts.onProgress?.({
      batch: bi + 1,
      batches: plan.length,
      images: done,
      totalImages,
      seconds: (performance.now() - t0) / 1000,
    });
  };
  const inflight: { batch: LoadedValBatch; dets: Promise<readonly Detections[]> }[] = [];
  let finished = 0;
  let next = load(0);
  try {
    for (let bi = 0; bi < plan.length; bi++) {
      opts.signal?.throwIfAborted();
      const batch = await next!;
      next = load(bi + 1);
      const dets = infer(batch.data, [batch.images.length, batch.shape[0], batch.shape[1]], nmsOpts);
      dets.catch(() => undefined); // awaited in order below
      inflight.push({ batch, dets });
      if (inflight.length >= depth) await finish(inflight.shift()!, finished++);
    }
    while (inflight.length > 0) await finish(inflight.shift()!, finished++);
  } finally {
    // Let batches still in flight settle before the caller moves on (their errors are not this one's).
    await Promise.allSettled(inflight.map((e) => e.dets));
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    ...evaluator.result(),
    split,
    imgSize,
    batchSize,
    seconds,
    imagesPerSecond: totalImages / seconds,
    inferenceMs: inferenceMs / totalImages,
    nmsMs: nmsMs / totalImages,
    peakTensorBytes: peak.peakBytes,
  };
}
