/**
 * The training data loader: YOLOv5 v7.0 utils/dataloaders.py LoadImagesAndLabels.__getitem__
 * (mosaic, mixup, letterbox + random_perspective, HSV, flips) and collate_fn, batch by batch,
 * with seeded randomness so a (seed, epoch) pair always gives the same batches.
 *
 * Randomness: the epoch order comes from Rng(seed, epoch, ORDER) and item k of the epoch draws
 * from its own Rng(seed, epoch, ITEM, k), so items can be prepared concurrently, a batch can be
 * rebuilt alone and resuming at epoch k reproduces epoch k. (The draws differ from YOLOv5's own
 * Python/NumPy generators; the distributions and their order within an item are YOLOv5's.)
 */
import { letterbox } from '../infer/letterbox.js';
import type { RgbImage } from '../infer/resize.js';
import { type AugmentHyp, augmentHsv, flipLeftRight, flipUpDown, randomPerspective } from './augment.js';
import { ImageStore } from './cache.js';
import { type MosaicSource, type NormalizedBox, loadMosaic, mixup, xywhn2xyxy, xyxy2xywhn } from './mosaic.js';
import { Rng } from './random.js';
import { mapPool } from './scan.js';
import { FreezeLabError } from '../../../shared/result.js';

/** One dataset image as `scanDataset` gives it (an `ImageScan` fits). Items with `ok: false` are left out. */
export interface LoaderItem {
  readonly imageFile: string;
  /** Size after EXIF orientation. */
  readonly width: number;
  readonly height: number;
  readonly rows: readonly NormalizedBox[];
  readonly ok?: boolean;
}

/** Options of `createTrainLoader`. */
export interface TrainLoaderOptions {
  readonly imgSize: number;
  readonly batchSize: number;
  /** YOLOv5 hyp keys (hyp.scratch-low.yaml etc.). */
  readonly hyp: AugmentHyp;
  /** Apply the training augmentations (false: load_image + letterbox only, as validation). */
  readonly augment: boolean;
  readonly seed: number;
  readonly cache: 'ram' | false;
  /** Shuffle the order each epoch (ignored with `rect`, as YOLOv5). */
  readonly shuffle: boolean;
  /** Rectangular batches sorted by aspect ratio; turns mosaic off (YOLOv5 --rect). */
  readonly rect?: boolean;
  /** Stride the rect batch shapes are rounded up to (32). */
  readonly stride?: number;
  /** Extra padding of rect shapes in strides (0 for training, YOLOv5 val uses 0.5). */
  readonly pad?: number;
  /** Batches prepared ahead while the current one is used (default 1). */
  readonly prefetch?: number;
  /** Items of a batch prepared at once (default 4). */
  readonly concurrency?: number;
  /** RAM cache budget in bytes (default: available memory / 1.1). */
  readonly cacheBudgetBytes?: number;
  /** Called once per unreadable image (it is then replaced by the next readable one). */
  readonly onWarning?: (message: string) => void;
}

/** One batch, ready for the network. */
export interface Batch {
  /** NHWC float32 in [0, 1]. */
  readonly images: Float32Array;
  readonly shape: readonly [number, number, number, 3];
  /** Rows [imageIndexInBatch, cls, cx, cy, w, h], normalized to the batch's h and w. */
  readonly targets: Float32Array;
  /** The image each batch entry was built around (the first tile of a mosaic). */
  readonly paths: string[];
}

/** One prepared item: image and labels [cls, cx, cy, w, h] normalized. */
export interface Sample {
  readonly image: RgbImage;
  readonly labels: Float64Array;
  readonly path: string;
  readonly index: number;
}

/** A training (or validation) loader over a fixed list of images. */
export interface TrainLoader {
  readonly size: number;
  readonly batchesPerEpoch: number;
  /** Images in dataset order (sorted by aspect ratio with `rect`). */
  readonly items: readonly LoaderItem[];
  /** Warnings so far (unreadable images). */
  readonly warnings: readonly string[];
  /** Bytes the RAM cache will hold when full (0 without cache). */
  readonly cacheBytes: number;
  /** The batches of epoch `e` (0-based). */
  epoch(e: number): AsyncIterable<Batch>;
  /** Batch `b` of epoch `e` alone. */
  batch(e: number, b: number): Promise<Batch>;
  /** Item at `position` of epoch `e`'s order. */
  sample(e: number, position: number): Promise<Sample>;
}

const ORDER_KEY = 1;
const ITEM_KEY = 2;

/** No image of the list could be read. */
export class NoReadableImageError extends FreezeLabError {
  constructor(count: number) {
    super('bad-file', `None of the ${count} training images could be read; check the dataset with "Check dataset".`);
    this.name = 'NoReadableImageError';
  }
}

/** Builds the loader; throws CacheBudgetError when `cache: 'ram'` does not fit the budget. */
export function createTrainLoader(input: readonly LoaderItem[], opts: TrainLoaderOptions): TrainLoader {
  const rect = opts.rect ?? false;
  const stride = opts.stride ?? 32;
  const bs = opts.batchSize;
  if (!(bs >= 1) || !Number.isInteger(bs)) throw new RangeError(`batch size must be a positive integer, got ${bs}`);
  if (!(opts.imgSize >= 32) || opts.imgSize % stride !== 0) {
    throw new RangeError(`image size must be a multiple of ${stride}, got ${opts.imgSize}`);
  }
  let items = input.filter((i) => i.ok !== false);
  if (items.length === 0) throw new NoReadableImageError(input.length);
  let batchShapes: [number, number][] | undefined;
  if (rect) {
    // YOLOv5: sort by aspect ratio h/w, one shape per batch covering its extreme ratios.
    items = items
      .map((it, k) => ({ it, k, ar: it.height / it.width }))
      .sort((a, b) => a.ar - b.ar || a.k - b.k)
      .map((x) => x.it);
    batchShapes = [];
    for (let b = 0; b * bs < items.length; b++) {
      const ars = items.slice(b * bs, (b + 1) * bs).map((it) => it.height / it.width);
      const mini = Math.min(...ars);
      const maxi = Math.max(...ars);
      const s: [number, number] = maxi < 1 ? [maxi, 1] : mini > 1 ? [1, 1 / mini] : [1, 1];
      batchShapes.push(
        s.map((v) => Math.ceil((v * opts.imgSize) / stride + (opts.pad ?? 0)) * stride) as [number, number],
      );
    }
  }
  const n = items.length;
  const store = new ImageStore(items, {
    imgSize: opts.imgSize,
    augment: opts.augment,
    cache: opts.cache,
    ...(opts.cacheBudgetBytes !== undefined ? { budgetBytes: opts.cacheBudgetBytes } : {}),
  });
  const warnings: string[] = [];
  const bad = new Set<number>();
  const hyp = opts.hyp;
  const persp = {
    degrees: hyp.degrees,
    translate: hyp.translate,
    scale: hyp.scale,
    shear: hyp.shear,
    perspective: hyp.perspective,
  };
  const useMosaic = opts.augment && !rect;

  /** load_image with a skip: an unreadable image is replaced by the next readable one (cyclically). */
  const loadSafe = async (
    index: number,
  ): Promise<{ image: RgbImage; rows: readonly NormalizedBox[]; index: number }> => {
    for (let k = 0; k < n; k++) {
      const i = (index + k) % n;
      if (bad.has(i)) continue;
      try {
        return { image: await store.load(i), rows: items[i]!.rows, index: i };
      } catch (e) {
        if (!bad.has(i)) {
          bad.add(i);
          const msg = `${(e as Error).message}; image skipped for this run`;
          warnings.push(msg);
          opts.onWarning?.(msg);
        }
      }
    }
    throw new NoReadableImageError(n);
  };
  const source: MosaicSource = { size: n, load: loadSafe };

  const order = (e: number): number[] => {
    const idx = Array.from({ length: n }, (_, i) => i);
    return opts.shuffle && !rect ? new Rng(opts.seed, e, ORDER_KEY).shuffle(idx) : idx;
  };

  /** LoadImagesAndLabels.__getitem__ for dataset index `index` at `position` of epoch `e`. */
  const getItem = async (e: number, position: number, index: number): Promise<Sample> => {
    const rng = new Rng(opts.seed, e, ITEM_KEY, position);
    let image: RgbImage;
    let labels: Float64Array;
    let used: number;
    if (useMosaic && rng.random() < hyp.mosaic) {
      const m = await loadMosaic(index, source, opts.imgSize, persp, rng);
      used = m.index;
      ({ image, labels } = m);
      if (rng.random() < hyp.mixup) {
        ({ image, labels } = mixup(m, await loadMosaic(rng.below(n), source, opts.imgSize, persp, rng), rng));
      }
    } else {
      const loaded = await loadSafe(index);
      used = loaded.index;
      const { width: w, height: h } = loaded.image;
      const shape = batchShapes ? batchShapes[Math.floor(position / bs)]! : opts.imgSize;
      const lb = letterbox(loaded.image, { newShape: shape, auto: false, scaleup: opts.augment });
      image = lb.image;
      labels = xywhn2xyxy(loaded.rows, lb.ratio[0] * w, lb.ratio[1] * h, lb.pad[0], lb.pad[1]);
      if (opts.augment) ({ image, labels } = randomPerspective(image, labels, persp, rng));
    }
    labels = xyxy2xywhn(labels, image.width, image.height);
    if (opts.augment) {
      augmentHsv(image, hyp.hsv_h, hyp.hsv_s, hyp.hsv_v, rng);
      if (rng.random() < hyp.flipud) {
        flipUpDown(image);
        for (let k = 2; k < labels.length; k += 5) labels[k] = 1 - labels[k]!;
      }
      if (rng.random() < hyp.fliplr) {
        flipLeftRight(image);
        for (let k = 1; k < labels.length; k += 5) labels[k] = 1 - labels[k]!;
      }
    }
    return { image, labels, path: items[used]!.imageFile, index: used };
  };

  const batchesPerEpoch = Math.ceil(n / bs);
  const makeBatch = async (e: number, ord: readonly number[], b: number): Promise<Batch> => {
    if (!(b >= 0 && b < batchesPerEpoch)) throw new RangeError(`batch ${b} outside 0..${batchesPerEpoch - 1}`);
    const positions = Array.from({ length: Math.min(bs, n - b * bs) }, (_, k) => b * bs + k);
    const samples = await mapPool(positions, opts.concurrency ?? 4, (p) => getItem(e, p, ord[p]!));
    return collate(samples);
  };

  return {
    size: n,
    batchesPerEpoch,
    items,
    warnings,
    cacheBytes: store.plannedBytes,
    batch: (e, b) => makeBatch(e, order(e), b),
    sample: (e, p) => getItem(e, p, order(e)[p]!),
    epoch(e: number): AsyncIterable<Batch> {
      const depth = Math.max(0, opts.prefetch ?? 1);
      return {
        async *[Symbol.asyncIterator]() {
          const ord = order(e);
          const queue: Promise<Batch>[] = [];
          let next = 0;
          const fill = (): void => {
            while (next < batchesPerEpoch && queue.length <= depth) {
              const p = makeBatch(e, ord, next++);
              // Marks the rejection handled if the consumer stops early; awaiting p still throws.
              p.catch(() => undefined);
              queue.push(p);
            }
          };
          fill();
          while (queue.length > 0) {
            const batch = await queue.shift()!;
            fill();
            yield batch;
          }
        },
      };
    },
  };
}

/** uint8 -> value / 255 as float32 (a table read is cheaper than a division per element). */
const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** YOLOv5 collate_fn: stack images (NHWC, /255) and prefix each label row with its batch index. */
export function collate(samples: readonly Sample[]): Batch {
  const first = samples[0];
  if (!first) throw new RangeError('cannot collate an empty batch');
  const { width: w, height: h } = first.image;
  const per = w * h * 3;
  const images = new Float32Array(samples.length * per);
  let nt = 0;
  samples.forEach((s, k) => {
    if (s.image.width !== w || s.image.height !== h || s.image.channels !== 3) {
      throw new Error(
        `batch images differ in shape: ${s.path} is ${s.image.width}x${s.image.height}, expected ${w}x${h}`,
      );
    }
    const d = s.image.data;
    const o = k * per;
    for (let i = 0; i < per; i++) images[o + i] = TO_UNIT[d[i]!]!;
    nt += s.labels.length / 5;
  });
  const targets = new Float32Array(nt * 6);
  let t = 0;
  samples.forEach((s, k) => {
    for (let i = 0; i < s.labels.length; i += 5) {
      targets[t++] = k;
      for (let j = 0; j < 5; j++) targets[t++] = s.labels[i + j]!;
    }
  });
  return { images, shape: [samples.length, h, w, 3], targets, paths: samples.map((s) => s.path) };
}
