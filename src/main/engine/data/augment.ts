/**
 * Geometric and colour augmentations on 8-bit RGB HWC images, following YOLOv5 v7.0
 * utils/augmentations.py (random_perspective, box_candidates, augment_hsv) and the OpenCV
 * kernels it calls (warpAffine / warpPerspective with INTER_LINEAR and a constant border,
 * COLOR_BGR2HSV / COLOR_HSV2BGR on uint8), written in plain JS.
 *
 * Labels are `Float64Array` rows of 5 values [cls, x1, y1, x2, y2] in pixels (YOLOv5's layout).
 */
import type { RgbImage } from '../infer/resize.js';
import type { Rng } from './random.js';

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

/** Pad / border grey of YOLOv5. */
export const BORDER_VALUE = 114;

// OpenCV imgwarp.cpp fixed point: 5 fractional bits of source position, 10 bits for affine sums.
const INTER_BITS = 5;
const INTER_TAB_SIZE = 1 << INTER_BITS;
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;
const ROUND_DELTA = AB_SCALE / INTER_TAB_SIZE / 2;
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/** cvRound on a double: nearest, half to even, saturated to int32. */
function cvRoundInt(v: number): number {
  if (v >= INT_MAX) return INT_MAX;
  if (v <= INT_MIN) return INT_MIN;
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

function clampShort(v: number): number {
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

/**
 * Bilinear remap of one output pixel from fixed-point source position (X, Y in 1/32 pixel),
 * as OpenCV remapBilinear 8u with BORDER_CONSTANT: taps outside the image read `border`.
 */
function sampleInto(src: RgbImage, X: number, Y: number, out: Uint8Array, o: number, border: number): void {
  const sw = src.width;
  const sh = src.height;
  const cn = src.channels;
  const d = src.data;
  const sx = clampShort(X >> INTER_BITS);
  const sy = clampShort(Y >> INTER_BITS);
  const fx = X & (INTER_TAB_SIZE - 1);
  const fy = Y & (INTER_TAB_SIZE - 1);
  // 2D weights in units of 1/1024; OpenCV's 15-bit table holds the same values times 32, exactly.
  const w00 = (INTER_TAB_SIZE - fx) * (INTER_TAB_SIZE - fy);
  const w01 = fx * (INTER_TAB_SIZE - fy);
  const w10 = (INTER_TAB_SIZE - fx) * fy;
  const w11 = fx * fy;
  if (sx >= 0 && sx < sw - 1 && sy >= 0 && sy < sh - 1) {
    const p = (sy * sw + sx) * cn;
    const q = p + sw * cn;
    for (let c = 0; c < cn; c++) {
      out[o + c] = (d[p + c]! * w00 + d[p + cn + c]! * w01 + d[q + c]! * w10 + d[q + cn + c]! * w11 + 512) >> 10;
    }
    return;
  }
  if (sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) {
    for (let c = 0; c < cn; c++) out[o + c] = border;
    return;
  }
  const inX0 = sx >= 0 && sx < sw;
  const inX1 = sx + 1 >= 0 && sx + 1 < sw;
  const inY0 = sy >= 0 && sy < sh;
  const inY1 = sy + 1 >= 0 && sy + 1 < sh;
  const p = (sy * sw + sx) * cn;
  const q = p + sw * cn;
  for (let c = 0; c < cn; c++) {
    const v00 = inX0 && inY0 ? d[p + c]! : border;
    const v01 = inX1 && inY0 ? d[p + cn + c]! : border;
    const v10 = inX0 && inY1 ? d[q + c]! : border;
    const v11 = inX1 && inY1 ? d[q + cn + c]! : border;
    out[o + c] = (v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11 + 512) >> 10;
  }
}

/**
 * cv2.warpAffine(src, M, (width, height), INTER_LINEAR, BORDER_CONSTANT, border): `m` is the
 * forward 2x3 matrix [a, b, c, d, e, f] (row-major), inverted here as OpenCV does.
 */
export function warpAffine(
  src: RgbImage,
  m: ArrayLike<number>,
  width: number,
  height: number,
  border = BORDER_VALUE,
): RgbImage {
  let [a, b, c, d, e, f] = [m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!];
  let det = a * e - b * d;
  det = det !== 0 ? 1 / det : 0;
  const ia = e * det;
  const ie = a * det;
  b *= -det;
  d *= -det;
  a = ia;
  e = ie;
  const ic = -a * c - b * f;
  const iff = -d * c - e * f;
  c = ic;
  f = iff;
  const cn = src.channels;
  const out = new Uint8Array(width * height * cn);
  const adelta = new Int32Array(width);
  const bdelta = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    adelta[x] = cvRoundInt(a * x * AB_SCALE);
    bdelta[x] = cvRoundInt(d * x * AB_SCALE);
  }
  const shift = AB_BITS - INTER_BITS;
  const sw = src.width;
  const sh = src.height;
  const sd = src.data;
  const rowStride = sw * cn;
  const mask = INTER_TAB_SIZE - 1;
  for (let y = 0; y < height; y++) {
    const X0 = cvRoundInt((b * y + c) * AB_SCALE) + ROUND_DELTA;
    const Y0 = cvRoundInt((e * y + f) * AB_SCALE) + ROUND_DELTA;
    let o = y * width * cn;
    for (let x = 0; x < width; x++, o += cn) {
      const X = (X0 + adelta[x]!) >> shift;
      const Y = (Y0 + bdelta[x]!) >> shift;
      const sx = X >> INTER_BITS;
      const sy = Y >> INTER_BITS;
      if (cn === 3 && sx >= 0 && sx < sw - 1 && sy >= 0 && sy < sh - 1) {
        // Interior fast path of sampleInto, inlined for speed (same arithmetic).
        const fx = X & mask;
        const fy = Y & mask;
        const w00 = (INTER_TAB_SIZE - fx) * (INTER_TAB_SIZE - fy);
        const w01 = fx * (INTER_TAB_SIZE - fy);
        const w10 = (INTER_TAB_SIZE - fx) * fy;
        const w11 = fx * fy;
        const p = sy * rowStride + sx * 3;
        const q = p + rowStride;
        out[o] = (sd[p]! * w00 + sd[p + 3]! * w01 + sd[q]! * w10 + sd[q + 3]! * w11 + 512) >> 10;
        out[o + 1] = (sd[p + 1]! * w00 + sd[p + 4]! * w01 + sd[q + 1]! * w10 + sd[q + 4]! * w11 + 512) >> 10;
        out[o + 2] = (sd[p + 2]! * w00 + sd[p + 5]! * w01 + sd[q + 2]! * w10 + sd[q + 5]! * w11 + 512) >> 10;
      } else {
        sampleInto(src, X, Y, out, o, border);
      }
    }
  }
  return { data: out, width, height, channels: cn };
}

/** cv2.warpPerspective with INTER_LINEAR and a constant border; `m` is the forward 3x3 (row-major). */
export function warpPerspective(
  src: RgbImage,
  m: ArrayLike<number>,
  width: number,
  height: number,
  border = BORDER_VALUE,
): RgbImage {
  const inv = invert3(m);
  const cn = src.channels;
  const out = new Uint8Array(width * height * cn);
  for (let y = 0; y < height; y++) {
    const X0 = inv[1]! * y + inv[2]!;
    const Y0 = inv[4]! * y + inv[5]!;
    const W0 = inv[7]! * y + inv[8]!;
    let o = y * width * cn;
    for (let x = 0; x < width; x++, o += cn) {
      let w = W0 + inv[6]! * x;
      w = w ? INTER_TAB_SIZE / w : 0;
      const X = cvRoundInt((X0 + inv[0]! * x) * w);
      const Y = cvRoundInt((Y0 + inv[3]! * x) * w);
      sampleInto(src, X, Y, out, o, border);
    }
  }
  return { data: out, width, height, channels: cn };
}

/** Inverse of a row-major 3x3 matrix (zero matrix when singular, as OpenCV's DECOMP_LU gives). */
function invert3(m: ArrayLike<number>): Float64Array {
  const at = (k: number): number => m[k]!;
  const cof = [
    at(4) * at(8) - at(5) * at(7),
    at(2) * at(7) - at(1) * at(8),
    at(1) * at(5) - at(2) * at(4),
    at(5) * at(6) - at(3) * at(8),
    at(0) * at(8) - at(2) * at(6),
    at(2) * at(3) - at(0) * at(5),
    at(3) * at(7) - at(4) * at(6),
    at(1) * at(6) - at(0) * at(7),
    at(0) * at(4) - at(1) * at(3),
  ];
  const det = at(0) * cof[0]! + at(1) * cof[3]! + at(2) * cof[6]!;
  return det === 0 ? new Float64Array(9) : Float64Array.from(cof, (v) => v / det);
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
