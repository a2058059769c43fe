/**
 * cv2.warpAffine / cv2.warpPerspective with INTER_LINEAR and a constant border on 8-bit HWC
 * images, in plain JS with OpenCV 4.x imgwarp.cpp's fixed-point arithmetic, so that YOLOv5's
 * random_perspective (utils/augmentations.py) gives the same pixels as with OpenCV.
 */
import type { RgbImage } from '../infer/resize.js';

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
export function cvRoundInt(v: number): number {
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
