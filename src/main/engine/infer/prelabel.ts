/**
 * Pre-labelling a list of images as detect.py --save-txt [--save-conf] does, one image at a time
 * (or one per replica thread at once): letterbox, forward, NMS, boxes back to original pixels,
 * then OUT/labels/NAME.txt and the annotated OUT/NAME. Existing files are kept unless `force`
 * (see src/shared/commands/prelabel.ts for why an image without detections gets an empty file).
 * The signal is checked before each image; images in flight finish, what was written stays.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PrelabelSkip, PrelabelSummary } from '../../../shared/commands/prelabel.js';
import type { YoloModel } from '../model/forward.js';
import type { BatchDetector } from '../parallel/data-parallel.js';
import { writeAnnotated } from './annotate.js';
import {
  type Detection,
  type DetectOptions,
  detectBatch,
  detectInput,
  detectNms,
  modelStride,
  toDetections,
} from './detect.js';
import { ImageReadError, loadImageRgb } from './image.js';
import { labelLine } from './label-format.js';

export interface PrelabelOptions extends DetectOptions {
  readonly files: readonly string[];
  readonly out: string;
  readonly saveTxt: boolean;
  readonly saveConf: boolean;
  readonly saveImg: boolean;
  readonly force: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number, message?: string) => void;
  /** Runs the model elsewhere (replica threads); absent: `model` runs here. */
  readonly detector?: BatchDetector;
  /** Called with each image's detections (tests, previews). */
  readonly onImage?: (file: string, detections: readonly Detection[], shape: readonly [number, number]) => void;
}

/** What {@link prelabelFiles} did: the job's summary but for what the service adds (source, model, folders, threads). */
export type PrelabelCounts = Omit<
  PrelabelSummary,
  'source' | 'sourceKind' | 'weights' | 'out' | 'labelsDir' | 'workers'
>;

const MAX_SKIPS_LISTED = 200;
const ANNOTATED_LISTED = 12;
/** Extensions sharp writes; others (bmp, dng, mpo, pfm) are saved annotated as .jpg. */
const WRITABLE = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);

/** OUT/labels/NAME.txt, as detect.py: the image's name with .txt. */
export function labelFileFor(out: string, image: string): string {
  const base = path.basename(image);
  return path.join(out, 'labels', `${base.slice(0, base.length - path.extname(base).length)}.txt`);
}

/** OUT/NAME (the annotated copy), .jpg for formats sharp cannot write. */
export function annotatedFileFor(out: string, image: string): string {
  const base = path.basename(image);
  const ext = path.extname(base);
  return path.join(out, WRITABLE.has(ext.toLowerCase()) ? base : `${base.slice(0, base.length - ext.length)}.jpg`);
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

/**
 * YOLOv5 increment_path: `base` if free, else base2, base3, ... (the first that does not exist).
 */
export async function nextFreeDir(base: string): Promise<string> {
  if (!(await exists(base))) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}${n}`;
    if (!(await exists(candidate))) return candidate;
  }
}

/** Pre-labels `files` (see the module comment). */
export async function prelabelFiles(
  model: YoloModel,
  names: readonly string[],
  opts: PrelabelOptions,
): Promise<PrelabelCounts> {
  const t0 = performance.now();
  const total = opts.files.length;
  const stride = modelStride(model);
  const nms = detectNms(opts);
  const labelsDir = path.join(opts.out, 'labels');
  await mkdir(opts.saveTxt ? labelsDir : opts.out, { recursive: true });
  const c = {
    processed: 0,
    labelled: 0,
    empty: 0,
    detections: 0,
    skippedCount: 0,
    labelFiles: 0,
    imageFiles: 0,
    keptExisting: 0,
  };
  const skipped: PrelabelSkip[] = [];
  const annotated: string[] = [];
  const skip = (file: string, reason: string): void => {
    c.skippedCount++;
    if (skipped.length < MAX_SKIPS_LISTED) skipped.push({ file, reason });
  };
  // 'wx' refuses to replace a file that appeared since the check (another job on the same folder).
  const flag = opts.force ? 'w' : 'wx';
  let done = 0;
  let next = 0;
  const one = async (file: string): Promise<string> => {
    const name = path.basename(file);
    const labelFile = labelFileFor(opts.out, file);
    const imageFile = annotatedFileFor(opts.out, file);
    const wantTxt = opts.saveTxt && (opts.force || !(await exists(labelFile)));
    const wantImg = opts.saveImg && (opts.force || !(await exists(imageFile)));
    const kept = (opts.saveTxt && !wantTxt ? 1 : 0) + (opts.saveImg && !wantImg ? 1 : 0);
    c.keptExisting += kept;
    if (!wantTxt && !wantImg) {
      skip(file, `already done: ${opts.saveTxt ? labelFile : imageFile} exists (run with force to replace it)`);
      return `${name}: skipped, already labelled`;
    }
    let img;
    try {
      img = await loadImageRgb(file);
    } catch (e) {
      if (!(e instanceof ImageReadError)) throw e;
      skip(file, `unreadable: ${e.message}`);
      return `${name}: skipped, unreadable`;
    }
    const input = detectInput(img, opts.imgSize ?? 640, stride);
    const shape = [1, input.inputShape[0], input.inputShape[1]] as const;
    const dets = opts.detector
      ? (await opts.detector.detect(input.data, shape, nms)).detections[0]
      : (await detectBatch(model, input.data, shape, nms)).detections[0];
    if (!dets) throw new Error(`pre-label: no detections answered for ${file}`);
    const detections = toDetections(dets, input.inputShape, [img.height, img.width], names);
    opts.onImage?.(file, detections, [img.height, img.width]);
    c.processed++;
    c.detections += detections.length;
    if (detections.length > 0) c.labelled++;
    else c.empty++;
    if (wantTxt) {
      const text = detections
        .map((d) => `${labelLine(d.cls, d.xyxy, img.width, img.height, opts.saveConf ? d.conf : undefined)}\n`)
        .join('');
      try {
        await writeFile(labelFile, text, { flag });
        c.labelFiles++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        c.keptExisting++;
      }
    }
    if (wantImg) {
      await writeAnnotated(img, detections, imageFile);
      c.imageFiles++;
      if (annotated.length < ANNOTATED_LISTED) annotated.push(imageFile);
    }
    return `${name}: ${detections.length} detection${detections.length === 1 ? '' : 's'}${kept ? ' (existing file kept)' : ''}`;
  };
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < total && !failed && !opts.signal?.aborted) {
      const file = opts.files[next++]!;
      try {
        const message = await one(file);
        done++;
        opts.onProgress?.(done, total, message);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  opts.onProgress?.(0, total, `${total} image${total === 1 ? '' : 's'}`);
  // One lane per replica thread (each image's decode overlaps another's forward pass).
  const lanes = Math.max(1, Math.min(opts.detector?.concurrency ?? 1, total));
  const settled = await Promise.allSettled(Array.from({ length: lanes }, () => lane()));
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return {
    images: total,
    ...c,
    skipped,
    annotated,
    seconds: (performance.now() - t0) / 1000,
    cancelled: opts.signal?.aborted ?? false,
  };
}
