/**
 * Mosaic and MixUp, and the label conversions around them. Follows YOLOv5 v7.0
 * utils/dataloaders.py load_mosaic, utils/augmentations.py mixup and utils/general.py
 * xywhn2xyxy / xyxy2xywhn.
 */
import type { RgbImage } from '../infer/resize.js';
import { type PerspectiveParams, randomPerspective } from './augment.js';
import { BORDER_VALUE } from './warp.js';
import type { Rng } from './random.js';

/** A label row as the scanner gives it: class and normalized centre/size. */
export interface NormalizedBox {
  readonly cls: number;
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
}

/** Normalized xywh rows -> pixel rows [cls, x1, y1, x2, y2] for an image of w x h placed at (padw, padh). */
export function xywhn2xyxy(rows: readonly NormalizedBox[], w: number, h: number, padw = 0, padh = 0): Float64Array {
  const out = new Float64Array(rows.length * 5);
  rows.forEach((r, i) => {
    out[i * 5] = r.cls;
    out[i * 5 + 1] = w * (r.cx - r.w / 2) + padw;
    out[i * 5 + 2] = h * (r.cy - r.h / 2) + padh;
    out[i * 5 + 3] = w * (r.cx + r.w / 2) + padw;
    out[i * 5 + 4] = h * (r.cy + r.h / 2) + padh;
  });
  return out;
}

/**
 * Pixel rows [cls, x1, y1, x2, y2] -> rows [cls, cx, cy, w, h] normalized to w x h, boxes first
 * clipped to [0, w - eps] x [0, h - eps] (YOLOv5 xyxy2xywhn(clip=True, eps=1e-3)).
 */
export function xyxy2xywhn(labels: Float64Array, w: number, h: number, eps = 1e-3): Float64Array {
  const out = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i += 5) {
    const x1 = clip(labels[i + 1]!, 0, w - eps);
    const y1 = clip(labels[i + 2]!, 0, h - eps);
    const x2 = clip(labels[i + 3]!, 0, w - eps);
    const y2 = clip(labels[i + 4]!, 0, h - eps);
    out[i] = labels[i]!;
    out[i + 1] = (x1 + x2) / 2 / w;
    out[i + 2] = (y1 + y2) / 2 / h;
    out[i + 3] = (x2 - x1) / w;
    out[i + 4] = (y2 - y1) / h;
  }
  return out;
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** What a mosaic needs from the dataset. */
export interface MosaicSource {
  /** Number of images to draw the three extra tiles from. */
  readonly size: number;
  /** load_image: the image resized so its long side is the image size, and its label rows. */
  load(index: number): Promise<{ image: RgbImage; rows: readonly NormalizedBox[]; index?: number }>;
}

/**
 * YOLOv5 load_mosaic: centre (xc, yc) uniform in [s/2, 3s/2), `index` plus three random images
 * shuffled into the four quadrants of a 2s canvas of grey 114, labels clipped to the canvas, then
 * random_perspective with border -s/2 crops back to s x s. `index` in the result is the image
 * used for the requested one.
 */
export async function loadMosaic(
  index: number,
  src: MosaicSource,
  imgSize: number,
  persp: Omit<PerspectiveParams, 'border'>,
  rng: Rng,
): Promise<{ image: RgbImage; labels: Float64Array; index: number }> {
  const s = imgSize;
  const border = Math.floor(-s / 2); // Python -s // 2
  // int(random.uniform(-x, 2 * s + x)) for x = border, y first.
  const yc = Math.trunc(rng.uniform(-border, 2 * s + border));
  const xc = Math.trunc(rng.uniform(-border, 2 * s + border));
  const indices = [index, rng.below(src.size), rng.below(src.size), rng.below(src.size)];
  rng.shuffle(indices);
  // Decode the four tiles concurrently (sharp works off the main thread); layout stays in order.
  const tiles = await Promise.all(indices.map((i) => src.load(i)));
  // The image actually used for `index` (a source may substitute an unreadable one).
  const used = tiles[indices.indexOf(index)]!.index ?? index;
  const S2 = s * 2;
  const cn = 3;
  const canvas = new Uint8Array(S2 * S2 * cn).fill(BORDER_VALUE);
  const parts: Float64Array[] = [];
  tiles.forEach(({ image: img, rows }, i) => {
    const { width: w, height: h } = img;
    let x1a: number, y1a: number, x2a: number, y2a: number;
    let x1b: number, y1b: number;
    if (i === 0) {
      [x1a, y1a, x2a, y2a] = [Math.max(xc - w, 0), Math.max(yc - h, 0), xc, yc];
      [x1b, y1b] = [w - (x2a - x1a), h - (y2a - y1a)];
    } else if (i === 1) {
      [x1a, y1a, x2a, y2a] = [xc, Math.max(yc - h, 0), Math.min(xc + w, S2), yc];
      [x1b, y1b] = [0, h - (y2a - y1a)];
    } else if (i === 2) {
      [x1a, y1a, x2a, y2a] = [Math.max(xc - w, 0), yc, xc, Math.min(S2, yc + h)];
      [x1b, y1b] = [w - (x2a - x1a), 0];
    } else {
      [x1a, y1a, x2a, y2a] = [xc, yc, Math.min(xc + w, S2), Math.min(S2, yc + h)];
      [x1b, y1b] = [0, 0];
    }
    copyRect(img, x1b, y1b, x2a - x1a, y2a - y1a, canvas, S2, x1a, y1a);
    const lab = xywhn2xyxy(rows, w, h, x1a - x1b, y1a - y1b);
    for (let k = 0; k < lab.length; k++) if (k % 5 !== 0) lab[k] = clip(lab[k]!, 0, S2);
    parts.push(lab);
  });
  const labels = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    labels.set(p, off);
    off += p.length;
  }
  const img4: RgbImage = { data: canvas, width: S2, height: S2, channels: cn };
  return { ...randomPerspective(img4, labels, { ...persp, border: [border, border] }, rng), index: used };
}

/** Copies a w x h block at (sx, sy) of `src` to (dx, dy) of a square RGB canvas `dstWidth` wide. */
function copyRect(
  src: RgbImage,
  sx: number,
  sy: number,
  w: number,
  h: number,
  dst: Uint8Array,
  dstWidth: number,
  dx: number,
  dy: number,
): void {
  if (w <= 0 || h <= 0) return;
  const cn = src.channels;
  for (let y = 0; y < h; y++) {
    const from = ((sy + y) * src.width + sx) * cn;
    dst.set(src.data.subarray(from, from + w * cn), ((dy + y) * dstWidth + dx) * cn);
  }
}

/** YOLOv5 mixup: ratio ~ Beta(32, 32), pixels (a r + b (1 - r)) truncated to uint8, labels concatenated. */
export function mixup(
  a: { image: RgbImage; labels: Float64Array },
  b: { image: RgbImage; labels: Float64Array },
  rng: Rng,
): { image: RgbImage; labels: Float64Array } {
  const r = rng.beta(32, 32);
  const out = new Uint8Array(a.image.data.length);
  const da = a.image.data;
  const db = b.image.data;
  for (let i = 0; i < out.length; i++) out[i] = Math.trunc(da[i]! * r + db[i]! * (1 - r));
  const labels = new Float64Array(a.labels.length + b.labels.length);
  labels.set(a.labels);
  labels.set(b.labels, a.labels.length);
  return { image: { ...a.image, data: out }, labels };
}
