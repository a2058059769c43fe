/**
 * YOLOv5 load_image with an optional RAM cache: decode as cv2.imread (EXIF applied, ICC profile
 * ignored), resize so the long side equals the image size (INTER_LINEAR when augmenting or
 * enlarging, INTER_AREA otherwise).
 * Follows YOLOv5 v7.0 utils/dataloaders.py load_image and check_cache_ram (10 % safety margin).
 */
import os from 'node:os';
import { FreezeLabError } from '../../../shared/result.js';
import { loadImageRgb } from '../infer/image.js';
import { resizeLongSide, resizedSize } from '../infer/letterbox.js';
import type { RgbImage } from '../infer/resize.js';

/** One image to load: its file and (EXIF-rotated) size as the scanner measured it. */
export interface ImageEntry {
  readonly imageFile: string;
  readonly width: number;
  readonly height: number;
}

/** Options of `ImageStore`. */
export interface ImageStoreOptions {
  readonly imgSize: number;
  /** Training with augmentation: always INTER_LINEAR (YOLOv5). */
  readonly augment: boolean;
  /** 'ram' keeps every resized image in memory after its first load. */
  readonly cache: 'ram' | false;
  /** Most bytes the RAM cache may take; default: available memory / 1.1 (YOLOv5's margin). */
  readonly budgetBytes?: number;
}

/** The RAM cache would not fit its budget. */
export class CacheBudgetError extends FreezeLabError {
  readonly requiredBytes: number;
  readonly budgetBytes: number;
  constructor(required: number, budget: number, images: number, imgSize: number) {
    super(
      'resource',
      `Caching ${images} images at size ${imgSize} in RAM needs ${gb(required)} GB, more than the ${gb(budget)} GB available for it.`,
      'Turn the image cache off (images are then decoded every epoch), use a smaller image size, or free memory.',
    );
    this.name = 'CacheBudgetError';
    this.requiredBytes = required;
    this.budgetBytes = budget;
  }
}

function gb(bytes: number): string {
  return (bytes / 1e9).toFixed(bytes < 1e8 ? 3 : 1);
}

/** Bytes the RAM cache needs for these images (exact, from the scanned sizes). */
export function cacheBytes(entries: readonly ImageEntry[], imgSize: number): number {
  let total = 0;
  for (const e of entries) {
    const [w, h] = resizedSize(e.width, e.height, imgSize);
    total += w * h * 3;
  }
  return total;
}

/** Default RAM budget: available memory with YOLOv5's 10 % safety margin. */
export function defaultCacheBudget(): number {
  return os.freemem() / 1.1;
}

/**
 * Loads images resized for training. With `cache: 'ram'` each image is decoded once; the budget
 * is checked up front from the scanned sizes, so an oversized cache fails before training starts.
 * Returned images are shared with the cache: callers must copy before writing to them.
 */
export class ImageStore {
  /** Bytes the cache will hold once every image has been loaded (0 without cache). */
  readonly plannedBytes: number;
  private readonly cache: (RgbImage | undefined)[] | undefined;
  private readonly pending = new Map<number, Promise<RgbImage>>();
  private cached = 0;

  constructor(
    private readonly entries: readonly ImageEntry[],
    private readonly opts: ImageStoreOptions,
  ) {
    if (opts.cache === 'ram') {
      this.plannedBytes = cacheBytes(entries, opts.imgSize);
      const budget = opts.budgetBytes ?? defaultCacheBudget();
      if (this.plannedBytes > budget)
        throw new CacheBudgetError(this.plannedBytes, budget, entries.length, opts.imgSize);
      this.cache = new Array<RgbImage | undefined>(entries.length);
    } else {
      this.plannedBytes = 0;
    }
  }

  /** Number of images. */
  get size(): number {
    return this.entries.length;
  }

  /** Images held in the cache so far. */
  get cachedImages(): number {
    return this.cached;
  }

  /** The entry at `index`. */
  entry(index: number): ImageEntry {
    const e = this.entries[index];
    if (!e) throw new RangeError(`image index ${index} outside 0..${this.entries.length - 1}`);
    return e;
  }

  /** load_image(index): throws (with the file name) when the image cannot be decoded. */
  async load(index: number): Promise<RgbImage> {
    const e = this.entry(index);
    const hit = this.cache?.[index];
    if (hit) return hit;
    // Two mosaics of one batch may ask for the same image at once: decode it once.
    const inFlight = this.pending.get(index);
    if (inFlight) return inFlight;
    const p = (async () => {
      const img = resizeLongSide(await loadImageRgb(e.imageFile), this.opts.imgSize, this.opts.augment);
      if (this.cache) {
        this.cache[index] = img;
        this.cached++;
      }
      return img;
    })();
    if (this.cache) {
      this.pending.set(index, p);
      p.finally(() => this.pending.delete(index)).catch(() => undefined);
    }
    return p;
  }
}
