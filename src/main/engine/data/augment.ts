/**
 * Geometric and colour augmentations on 8-bit RGB HWC images, following YOLOv5 v7.0
 * utils/augmentations.py (random_perspective, box_candidates, augment_hsv) and the OpenCV
 * colour kernels it calls (COLOR_BGR2HSV / COLOR_HSV2BGR on uint8), written in plain JS.
 * The image warps are in warp.ts.
 *
 * Labels are `Float64Array` rows of 5 values [cls, x1, y1, x2, y2] in pixels (YOLOv5's layout).
 */
import type { RgbImage } from '../infer/resize.js';
import type { Rng } from './random.js';
import { cvRoundInt, warpAffine, warpPerspective } from './warp.js';

/** Augmentation hyper-parameters, with YOLOv5's hyp.*.yaml keys. */
export interface AugmentHyp {
  readonly hsv_h: number;
  readonly hsv_s: number;
  readonly hsv_v: number;
  readonly degrees: number;
  readonly translate: number;
  readonly scale: number;
  readonly shear: number;
  readonly perspective: number;
  readonly flipud: number;
  readonly fliplr: number;
  readonly mosaic: number;
  readonly mixup: number;
}

/** 3x3 row-major product a @ b. */
function matmul3(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[r * 3 + c] = a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!;
    }
  }
  return out;
}

/** Parameters of random_perspective. */
export interface PerspectiveParams {
  readonly degrees: number;
  readonly translate: number;
  readonly scale: number;
  readonly shear: number;
  readonly perspective: number;
  /** [y, x] border: -img/2 for a mosaic (crops the 2img canvas back to img), 0 otherwise. */
  readonly border?: readonly [number, number];
}

/**
 * YOLOv5 box_candidates: keep boxes (xyxy) that stay over 2 px wide and high, keep more than
 * `areaThr` of their area (before: box1 scaled by the augment scale) and an aspect ratio under 100.
 */
export function boxCandidates(
  box1: readonly [number, number, number, number],
  box2: readonly [number, number, number, number],
  whThr = 2,
  arThr = 100,
  areaThr = 0.1,
  eps = 1e-16,
): boolean {
  const w1 = box1[2] - box1[0];
  const h1 = box1[3] - box1[1];
  const w2 = box2[2] - box2[0];
  const h2 = box2[3] - box2[1];
  const ar = Math.max(w2 / (h2 + eps), h2 / (w2 + eps));
  return w2 > whThr && h2 > whThr && (w2 * h2) / (w1 * h1 + eps) > areaThr && ar < arThr;
}

/** Result of an augmentation: a new image and its surviving labels. */
export interface Augmented {
  readonly image: RgbImage;
  readonly labels: Float64Array;
}

/**
 * YOLOv5 random_perspective: M = T @ S @ R @ P @ C drawn in YOLOv5's order, the image warped to
 * (h + 2 border_y, w + 2 border_x), box corners transformed, clipped, filtered by box_candidates.
 */
export function randomPerspective(img: RgbImage, labels: Float64Array, p: PerspectiveParams, rng: Rng): Augmented {
  const [by, bx] = p.border ?? [0, 0];
  const height = img.height + by * 2;
  const width = img.width + bx * 2;
  const C = [1, 0, -img.width / 2, 0, 1, -img.height / 2, 0, 0, 1];
  const P = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  P[6] = rng.uniform(-p.perspective, p.perspective);
  P[7] = rng.uniform(-p.perspective, p.perspective);
  const a = rng.uniform(-p.degrees, p.degrees);
  const s = rng.uniform(1 - p.scale, 1 + p.scale);
  // cv2.getRotationMatrix2D(center=(0, 0), angle=a, scale=s).
  const alpha = s * Math.cos((a * Math.PI) / 180);
  const beta = s * Math.sin((a * Math.PI) / 180);
  const R = [alpha, beta, 0, -beta, alpha, 0, 0, 0, 1];
  const S = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  S[1] = Math.tan((rng.uniform(-p.shear, p.shear) * Math.PI) / 180);
  S[3] = Math.tan((rng.uniform(-p.shear, p.shear) * Math.PI) / 180);
  const T = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  T[2] = rng.uniform(0.5 - p.translate, 0.5 + p.translate) * width;
  T[5] = rng.uniform(0.5 - p.translate, 0.5 + p.translate) * height;
  const M = matmul3(T, matmul3(S, matmul3(R, matmul3(P, C))));
  const identity = M.every((v, i) => v === (i % 4 === 0 ? 1 : 0));
  let image = img;
  if (by !== 0 || bx !== 0 || !identity) {
    image = p.perspective ? warpPerspective(img, M, width, height) : warpAffine(img, M.subarray(0, 6), width, height);
  }
  const n = labels.length / 5;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const [x1, y1, x2, y2] = [labels[i * 5 + 1]!, labels[i * 5 + 2]!, labels[i * 5 + 3]!, labels[i * 5 + 4]!];
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [x, y] of [
      [x1, y1],
      [x2, y2],
      [x1, y2],
      [x2, y1],
    ] as const) {
      let tx = M[0]! * x + M[1]! * y + M[2]!;
      let ty = M[3]! * x + M[4]! * y + M[5]!;
      if (p.perspective) {
        const tw = M[6]! * x + M[7]! * y + M[8]!;
        tx /= tw;
        ty /= tw;
      }
      xs.push(tx);
      ys.push(ty);
    }
    const box: [number, number, number, number] = [
      clip(Math.min(...xs), 0, width),
      clip(Math.min(...ys), 0, height),
      clip(Math.max(...xs), 0, width),
      clip(Math.max(...ys), 0, height),
    ];
    if (boxCandidates([x1 * s, y1 * s, x2 * s, y2 * s], box)) kept.push(labels[i * 5]!, ...box);
  }
  return { image, labels: Float64Array.from(kept) };
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

// OpenCV color_hsv: 12-bit fixed-point division tables for RGB -> HSV on uint8, H range 180.
const HSV_SHIFT = 12;
const SDIV = new Int32Array(256);
const HDIV180 = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = cvRoundInt((255 << HSV_SHIFT) / i);
  HDIV180[i] = cvRoundInt((180 << HSV_SHIFT) / (6 * i));
}
const F = Math.fround;
const INV255 = F(1 / 255);
const HSCALE = F(6 / 180);
const MEMO_SLOTS = 1 << 16;
// OpenCV's sector_data ({b, g, r} indices into the four tabs per hue sector), reordered to r, g, b.
const SECTOR_RGB = Int8Array.from([0, 3, 1, 2, 0, 1, 1, 0, 3, 1, 2, 0, 3, 1, 0, 0, 1, 2]);
const HSV_TAB = new Int32Array(4);
const HSV_HALF = 1 << (HSV_SHIFT - 1);

/** cv2.cvtColor(RGB -> HSV) of one pixel, 8-bit: [h 0..179, s, v]. */
export function rgbToHsv8(r: number, g: number, b: number): [number, number, number] {
  const p = rgbToHsvPacked(r, g, b);
  return [p >> 16, (p >> 8) & 255, p & 255];
}

/** rgbToHsv8 as h << 16 | s << 8 | v (no allocation: this runs per pixel). */
function rgbToHsvPacked(r: number, g: number, b: number): number {
  const v = r > g ? (r > b ? r : b) : g > b ? g : b;
  const vmin = r < g ? (r < b ? r : b) : g < b ? g : b;
  const diff = v - vmin;
  const s = (diff * SDIV[v]! + HSV_HALF) >> HSV_SHIFT;
  let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
  h = (h * HDIV180[diff]! + HSV_HALF) >> HSV_SHIFT;
  if (h < 0) h += 180;
  return (h << 16) | (s << 8) | v;
}

/** cv2.cvtColor(HSV -> RGB) of one pixel, 8-bit (float32 arithmetic as OpenCV's HSV2RGB_b). */
export function hsvToRgb8(h: number, s8: number, v8: number): [number, number, number] {
  const out = new Uint8Array(3);
  hsvToRgbInto(h, s8, v8, out, 0);
  return [out[0]!, out[1]!, out[2]!];
}

/**
 * Per (h, s): the factors 1 - s, 1 - s f, 1 - s (1 - f) of OpenCV's tab[1..3] (f = hue fraction
 * in its sector), in float32 as OpenCV computes them; they do not depend on v or the gains.
 */
const HSV_COEF = new Float32Array(180 * 256 * 3);
const HSV_SECTOR = new Uint8Array(180);
for (let h = 0; h < 180; h++) {
  let hh = F(h * HSCALE);
  let sector = Math.floor(hh);
  hh = F(hh - sector);
  if (sector < 0 || sector >= 6) [sector, hh] = [0, 0];
  HSV_SECTOR[h] = sector;
  for (let s8 = 0; s8 < 256; s8++) {
    const s = F(s8 * INV255);
    const k = (h * 256 + s8) * 3;
    HSV_COEF[k] = F(1 - s);
    HSV_COEF[k + 1] = F(1 - F(s * hh));
    HSV_COEF[k + 2] = F(1 - F(s * F(1 - hh)));
  }
}

/** hsvToRgb8 writing R, G, B at out[o..o+2] (no allocation: this runs per pixel). */
function hsvToRgbInto(h: number, s8: number, v8: number, out: Uint8Array, o: number): void {
  const v = F(v8 * INV255);
  const t0 = sat8(F(v * 255));
  // s = 0 gives factors of 1: every tab is v, as OpenCV's special case.
  const c = (h * 256 + s8) * 3;
  const tab = HSV_TAB;
  tab[0] = t0;
  tab[1] = sat8(F(F(v * HSV_COEF[c]!) * 255));
  tab[2] = sat8(F(F(v * HSV_COEF[c + 1]!) * 255));
  tab[3] = sat8(F(F(v * HSV_COEF[c + 2]!) * 255));
  const k = HSV_SECTOR[h]! * 3;
  out[o] = tab[SECTOR_RGB[k]!]!;
  out[o + 1] = tab[SECTOR_RGB[k + 1]!]!;
  out[o + 2] = tab[SECTOR_RGB[k + 2]!]!;
}

function sat8(v: number): number {
  // v >= 0 here: nearest, half to even, saturated.
  let r = Math.round(v);
  if (r - v === 0.5 && (r & 1) !== 0) r -= 1;
  return r > 255 ? 255 : r;
}

/**
 * YOLOv5 augment_hsv, in place: gains 1 + U(-1, 1) * [hgain, sgain, vgain], applied by LUTs on
 * OpenCV's uint8 HSV (H in 0..179). All gains zero leaves the image untouched and draws nothing.
 */
export function augmentHsv(img: RgbImage, hgain: number, sgain: number, vgain: number, rng: Rng): void {
  if (!hgain && !sgain && !vgain) return;
  const rh = rng.uniform(-1, 1) * hgain + 1;
  const rs = rng.uniform(-1, 1) * sgain + 1;
  const rv = rng.uniform(-1, 1) * vgain + 1;
  const lutH = new Uint8Array(256);
  const lutS = new Uint8Array(256);
  const lutV = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    lutH[x] = Math.trunc((x * rh) % 180);
    lutS[x] = Math.trunc(clip(x * rs, 0, 255));
    lutV[x] = Math.trunc(clip(x * rv, 0, 255));
  }
  const d = img.data;
  const cn = img.channels;
  // Neighbouring pixels often share a colour: a direct-mapped memo of RGB -> RGB (keys + 1, 0 = empty).
  const keys = new Int32Array(MEMO_SLOTS);
  const vals = new Int32Array(MEMO_SLOTS);
  const px = new Uint8Array(3);
  for (let i = 0; i < d.length; i += cn) {
    const r = d[i]!;
    const g = d[i + 1]!;
    const b = d[i + 2]!;
    const key = (r << 16) | (g << 8) | b;
    const slot = (Math.imul(key, 0x9e3779b1) >>> 16) & (MEMO_SLOTS - 1);
    if (keys[slot] === key + 1) {
      const rgb = vals[slot]!;
      d[i] = rgb >> 16;
      d[i + 1] = (rgb >> 8) & 255;
      d[i + 2] = rgb & 255;
      continue;
    }
    const hsv = rgbToHsvPacked(r, g, b);
    hsvToRgbInto(lutH[hsv >> 16]!, lutS[(hsv >> 8) & 255]!, lutV[hsv & 255]!, px, 0);
    d[i] = px[0]!;
    d[i + 1] = px[1]!;
    d[i + 2] = px[2]!;
    keys[slot] = key + 1;
    vals[slot] = (px[0]! << 16) | (px[1]! << 8) | px[2]!;
  }
}

/** np.fliplr in place (labels are handled by the caller on normalized boxes). */
export function flipLeftRight(img: RgbImage): void {
  const { data: d, width: w, height: h, channels: cn } = img;
  for (let y = 0; y < h; y++) {
    const row = y * w * cn;
    for (let x = 0, xr = w - 1; x < xr; x++, xr--) {
      for (let c = 0; c < cn; c++) {
        const i = row + x * cn + c;
        const j = row + xr * cn + c;
        const t = d[i]!;
        d[i] = d[j]!;
        d[j] = t;
      }
    }
  }
}

/** np.flipud in place. */
export function flipUpDown(img: RgbImage): void {
  const { data: d, width: w, height: h, channels: cn } = img;
  const rowLen = w * cn;
  const tmp = new Uint8Array(rowLen);
  for (let y = 0, yr = h - 1; y < yr; y++, yr--) {
    tmp.set(d.subarray(y * rowLen, (y + 1) * rowLen));
    d.copyWithin(y * rowLen, yr * rowLen, (yr + 1) * rowLen);
    d.set(tmp, yr * rowLen);
  }
}
