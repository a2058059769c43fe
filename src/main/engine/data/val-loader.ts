/**
 * Validation batches as YOLOv5 v7.0 builds them for val.py: LoadImagesAndLabels with rect=True,
 * pad=0.5, augment=False (utils/dataloaders.py): images sorted by aspect ratio, one letterbox
 * shape per batch, load_image's long-side resize, letterbox(auto=False, scaleup=False), and the
 * labels carried to the letterboxed image and back to original pixels as val.py does.
 */
import { loadImageRgb } from '../infer/image.js';
import { letterbox, resizeLongSide } from '../infer/letterbox.js';
import type { ImageScan } from './scan.js';
import { mapPool } from './scan.js';

/** One batch of the plan: its images (in order) and the letterbox shape they share. */
export interface ValBatch {
  readonly images: readonly ImageScan[];
  /** Network input [height, width] of every image of the batch. */
  readonly shape: readonly [number, number];
}

/** Options of {@link planValBatches}. */
export interface ValPlanOptions {
  /** Long side images are resized to (already a multiple of the stride). */
  readonly imgSize: number;
  readonly batchSize: number;
  /** Largest model stride (32). */
  readonly stride?: number;
  /** Rectangular batches (true, as val.py); false gives square imgSize inputs. */
  readonly rect?: boolean;
  /** Extra stride fraction added to each side of a rectangular shape (0.5, as val.py). */
  readonly pad?: number;
}

/**
 * Splits the usable images (scan `ok`) into batches. With `rect`, images are sorted by h/w with
 * numpy's argsort (ties in its order, which decides the batch of images at a batch boundary) and each batch gets
 * ceil(shape * imgSize / stride + pad) * stride, where shape is [maxi, 1] when every ratio is
 * below 1, [1, 1/mini] when every ratio is above 1, else [1, 1].
 */
export function planValBatches(images: readonly ImageScan[], opts: ValPlanOptions): ValBatch[] {
  const stride = opts.stride ?? 32;
  const pad = opts.pad ?? 0.5;
  const bs = Math.max(1, Math.floor(opts.batchSize));
  const usable = images.filter((im) => im.ok);
  const rect = opts.rect ?? true;
  const order = rect ? numpyArgsort(usable.map((im) => im.height / im.width)).map((i) => usable[i]!) : usable;
  const out: ValBatch[] = [];
  for (let s = 0; s < order.length; s += bs) {
    const batch = order.slice(s, s + bs);
    let shape: [number, number] = [opts.imgSize, opts.imgSize];
    if (rect) {
      const ars = batch.map((im) => im.height / im.width);
      const mini = Math.min(...ars);
      const maxi = Math.max(...ars);
      const rel: [number, number] = maxi < 1 ? [maxi, 1] : mini > 1 ? [1, 1 / mini] : [1, 1];
      shape = [
        Math.ceil((rel[0] * opts.imgSize) / stride + pad) * stride,
        Math.ceil((rel[1] * opts.imgSize) / stride + pad) * stride,
      ];
    }
    out.push({ images: batch, shape });
  }
  return out;
}

/** One image of a loaded batch: what the evaluator needs besides the network input. */
export interface LoadedValImage {
  readonly scan: ImageScan;
  /** Decoded image [height, width] (h0, w0). */
  readonly originalShape: readonly [number, number];
  /** scale_boxes' ratio_pad: gain h/h0 of load_image and the letterbox padding [dw, dh]. */
  readonly ratioPad: readonly [number, readonly [number, number]];
  /** Ground truth as corner boxes in original pixels, flat [x1, y1, x2, y2, ...]. */
  readonly boxes: Float64Array;
  readonly cls: Int32Array;
}

/** A batch ready for the network. */
export interface LoadedValBatch {
  /** NHWC float32 in [0, 1], shape [images.length, shape[0], shape[1], 3]. */
  readonly data: Float32Array;
  readonly shape: readonly [number, number];
  readonly images: readonly LoadedValImage[];
}

/** Decodes, resizes and letterboxes one batch (a few images decoded at once by sharp's threads). */
export async function loadValBatch(batch: ValBatch, imgSize: number, concurrency = 4): Promise<LoadedValBatch> {
  const [bh, bw] = batch.shape;
  const plane = bh * bw * 3;
  const data = new Float32Array(batch.images.length * plane);
  const images = await mapPool(batch.images, concurrency, async (scan) => {
    const img = await loadImageRgb(scan.imageFile);
    // load_image with augment=False, then letterbox(auto=False, scaleup=False).
    const resized = resizeLongSide(img, imgSize, false);
    const lb = letterbox(resized, { newShape: [bh, bw], auto: false, scaleup: false });
    if (lb.image.width !== bw || lb.image.height !== bh) {
      throw new Error(`letterbox of ${scan.imageFile} gave ${lb.image.width}x${lb.image.height}, not ${bw}x${bh}`);
    }
    return { scan, img, resized, lb };
  });
  const out: LoadedValImage[] = images.map(({ scan, img, resized, lb }, k) => {
    const src = lb.image.data;
    const o = k * plane;
    for (let i = 0; i < plane; i++) data[o + i] = src[i]! / 255;
    const h0 = img.height;
    const w0 = img.width;
    const gain = resized.height / h0;
    const [padW, padH] = lb.pad;
    // __getitem__: xywhn -> letterboxed xyxy (w, h = resized size times the letterbox ratio),
    // clipped to the input (xyxy2xywhn clip=True, eps 1e-3); val.py scale_boxes back with
    // ratio_pad ((h/h0, w/w0), pad) and clip_boxes to the original image.
    const lw = lb.ratio[0] * resized.width;
    const lh = lb.ratio[1] * resized.height;
    const n = scan.rows.length;
    const boxes = new Float64Array(n * 4);
    const cls = new Int32Array(n);
    scan.rows.forEach((row, i) => {
      const x1 = clip(lw * (row.cx - row.w / 2) + padW, bw - 1e-3);
      const y1 = clip(lh * (row.cy - row.h / 2) + padH, bh - 1e-3);
      const x2 = clip(lw * (row.cx + row.w / 2) + padW, bw - 1e-3);
      const y2 = clip(lh * (row.cy + row.h / 2) + padH, bh - 1e-3);
      boxes[i * 4] = clip((x1 - padW) / gain, w0);
      boxes[i * 4 + 1] = clip((y1 - padH) / gain, h0);
      boxes[i * 4 + 2] = clip((x2 - padW) / gain, w0);
      boxes[i * 4 + 3] = clip((y2 - padH) / gain, h0);
      cls[i] = row.cls;
    });
    return { scan, originalShape: [h0, w0], ratioPad: [gain, [padW, padH]], boxes, cls };
  });
  return { data, shape: batch.shape, images: out };
}

function clip(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}

/**
 * np.argsort(v) with the default kind: numpy's introsort (npysort/quicksort.cpp aquicksort_:
 * median-of-3 partition, insertion sort below 17 elements, heapsort past the depth limit). Not
 * stable: equal values come out in the order this algorithm leaves them, as in YOLOv5.
 * (numpy builds using AVX-512 sorting would order ties differently; the reference run matches this.)
 */
export function numpyArgsort(v: readonly number[]): number[] {
  const n = v.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const less = (a: number, b: number): boolean => v[a]! < v[b]!;
  const swap = (i: number, j: number): void => {
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  };
  const stack: number[] = [];
  const depths: number[] = [];
  let pl = 0;
  let pr = n - 1;
  let cdepth = n > 0 ? Math.floor(Math.log2(n)) * 2 : 0;
  for (;;) {
    if (cdepth < 0) {
      heapsortRange(idx, pl, pr - pl + 1, less);
    } else {
      while (pr - pl > 16) {
        const pm = pl + ((pr - pl) >> 1);
        if (less(idx[pm]!, idx[pl]!)) swap(pm, pl);
        if (less(idx[pr]!, idx[pm]!)) swap(pr, pm);
        if (less(idx[pm]!, idx[pl]!)) swap(pm, pl);
        const vp = idx[pm]!;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (less(idx[pi]!, vp));
          do --pj;
          while (less(vp, idx[pj]!));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depths.push(--cdepth);
      }
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = idx[pi]!;
        let pj = pi;
        while (pj > pl && less(vi, idx[pj - 1]!)) {
          idx[pj] = idx[pj - 1]!;
          pj--;
        }
        idx[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depths.pop()!;
  }
  return idx;
}

/** numpy aheapsort_ over idx[start .. start + n - 1]. */
function heapsortRange(idx: number[], start: number, n: number, less: (a: number, b: number) => boolean): void {
  // numpy indexes the heap from 1: a[k] is idx[start + k - 1].
  const a = (k: number): number => idx[start + k - 1]!;
  const set = (k: number, val: number): void => {
    idx[start + k - 1] = val;
  };
  let i: number;
  let j: number;
  let l: number;
  let tmp: number;
  for (l = n >> 1; l > 0; --l) {
    tmp = a(l);
    for (i = l, j = l << 1; j <= n;) {
      if (j < n && less(a(j), a(j + 1))) j += 1;
      if (less(tmp, a(j))) {
        set(i, a(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
  for (; n > 1;) {
    tmp = a(n);
    set(n, a(1));
    n -= 1;
    for (i = 1, j = 2; j <= n;) {
      if (j < n && less(a(j), a(j + 1))) j++;
      if (less(tmp, a(j))) {
        set(i, a(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
}
