/**
 * OpenCV-compatible resizing of 8-bit HWC images in plain JS, so that network inputs match what
 * YOLOv5 feeds its model (cv2.resize) rather than what an image library's own kernels give.
 * Follows OpenCV 4.x imgproc/resize.cpp: INTER_LINEAR on 8-bit data uses 11-bit fixed-point
 * weights (and the SIMD vertical pass's rounding); INTER_AREA uses float32 area weights, or
 * whole-cell integer averages when the shrink factors are whole numbers.
 */
import { roundHalfEven } from '../eval/numpy.js'; // as cvRound / saturate_cast: half to even

/** An 8-bit image, rows of pixels with `channels` interleaved values (HWC). */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** OpenCV interpolation used by YOLOv5: INTER_LINEAR or INTER_AREA. */
export type Interpolation = 'linear' | 'area';

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

/**
 * cv2.resize(img, (width, height), interpolation), including OpenCV's integer-factor INTER_AREA
 * shortcut (resizeAreaFast): a shrink by whole factors averages whole cells with integer rounding,
 * `(sum + 2) >> 2` for 2x2. (Without it, zidane.jpg 1280x720 -> 640x360 differs on 12% of its
 * pixels by one level and a detection's confidence moves by 0.011.)
 */
export function resizeImage(img: RgbImage, width: number, height: number, interp: Interpolation): RgbImage {
  if (width === img.width && height === img.height) return { ...img, data: img.data.slice() };
  if (width < 1 || height < 1) throw new RangeError(`resize to ${width}x${height}: size must be at least 1x1`);
  const sx = img.width / width;
  const sy = img.height / height;
  // cv::resize turns an exact 2x INTER_LINEAR shrink into INTER_AREA.
  if (interp === 'linear' && sx === 2 && sy === 2) interp = 'area';
  // Whole factors >= 1 (not both 1: equal sizes returned above) take resizeAreaFast.
  if (interp === 'area' && Number.isInteger(sx) && Number.isInteger(sy) && sx >= 1 && sy >= 1) {
    return resizeAreaFast(img, sx, sy);
  }
  return interp === 'linear' ? resizeLinear(img, width, height) : resizeArea(img, width, height);
}

/** OpenCV resizeAreaFast_ (imgproc/resize.cpp) for 8-bit images and whole factors. */
function resizeAreaFast(img: RgbImage, sx: number, sy: number): RgbImage {
  const cn = img.channels;
  const width = img.width / sx;
  const height = img.height / sy;
  const src = img.data;
  const srcRow = img.width * cn;
  const out = new Uint8Array(width * height * cn);
  const scale = Math.fround(1 / (sx * sy));
  for (let dy = 0; dy < height; dy++) {
    for (let dx = 0; dx < width; dx++) {
      for (let c = 0; c < cn; c++) {
        let sum = 0;
        for (let j = 0; j < sy; j++) {
          const row = (dy * sy + j) * srcRow + dx * sx * cn + c;
          for (let i = 0; i < sx; i++) sum += src[row + i * cn]!;
        }
        // ResizeAreaFastVec for 2x2; otherwise saturate_cast<uchar>(sum * (1.f / area)).
        out[(dy * width + dx) * cn + c] =
          sx === 2 && sy === 2 ? (sum + 2) >> 2 : Math.min(255, roundHalfEven(Math.fround(sum * scale)));
      }
    }
  }
  return { data: out, width, height, channels: cn };
}

/** Per destination index: source index and fixed-point weights of it and its right/lower neighbour. */
function linearTab(src: number, dst: number): { ofs: Int32Array; a0: Int32Array; a1: Int32Array } {
  const scale = src / dst;
  const ofs = new Int32Array(dst);
  const a0 = new Int32Array(dst);
  const a1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      f = 0;
      s = 0;
    }
    if (s >= src - 1) {
      f = 0;
      s = src - 1;
    }
    ofs[d] = s;
    a0[d] = roundHalfEven(Math.fround(1 - f) * COEF_SCALE);
    a1[d] = roundHalfEven(f * COEF_SCALE);
  }
  return { ofs, a0, a1 };
}

function resizeLinear(img: RgbImage, width: number, height: number): RgbImage {
  const cn = img.channels;
  const sw = img.width;
  const sh = img.height;
  const src = img.data;
  const xt = linearTab(sw, width);
  const yt = linearTab(sh, height);
  const out = new Uint8Array(width * height * cn);
  const rowLen = width * cn;
  // Horizontal pass per source row, cached for the two rows a destination row needs.
  const rows = new Map<number, Int32Array>();
  const hrow = (sy: number): Int32Array => {
    let r = rows.get(sy);
    if (r) return r;
    r = new Int32Array(rowLen);
    const base = sy * sw * cn;
    for (let dx = 0; dx < width; dx++) {
      const s = base + xt.ofs[dx]! * cn;
      const w0 = xt.a0[dx]!;
      const w1 = xt.a1[dx]!;
      const s1 = xt.ofs[dx]! + 1 < sw ? s + cn : s;
      for (let c = 0; c < cn; c++) r[dx * cn + c] = src[s + c]! * w0 + src[s1 + c]! * w1;
    }
    if (rows.size > 4) rows.delete(rows.keys().next().value!);
    rows.set(sy, r);
    return r;
  };
  for (let dy = 0; dy < height; dy++) {
    const sy0 = yt.ofs[dy]!;
    const r0 = hrow(sy0);
    const r1 = hrow(Math.min(sy0 + 1, sh - 1));
    const b0 = yt.a0[dy]!;
    const b1 = yt.a1[dy]!;
    const o = dy * rowLen;
    for (let x = 0; x < rowLen; x++) {
      // VResizeLinearVec_32s8u: ((S0>>4)*b0 >> 16) + ((S1>>4)*b1 >> 16), then (+2) >> 2.
      const v = (((r0[x]! >> 4) * b0) >> 16) + (((r1[x]! >> 4) * b1) >> 16);
      const p = (v + 2) >> 2;
      out[o + x] = p < 0 ? 0 : p > 255 ? 255 : p;
    }
  }
  return { data: out, width, height, channels: cn };
}

/** computeResizeAreaTab: (destination index, source index, float32 weight) triples. */
function areaTab(src: number, dst: number): { di: Int32Array; si: Int32Array; alpha: Float32Array } {
  const scale = src / dst;
  const di: number[] = [];
  const si: number[] = [];
  const alpha: number[] = [];
  for (let d = 0; d < dst; d++) {
    const fs1 = d * scale;
    const fs2 = fs1 + scale;
    const cell = Math.min(scale, src - fs1);
    let s1 = Math.ceil(fs1);
    let s2 = Math.floor(fs2);
    s2 = Math.min(s2, src - 1);
    s1 = Math.min(s1, s2);
    if (s1 - fs1 > 1e-3) {
      di.push(d);
      si.push(s1 - 1);
      alpha.push((s1 - fs1) / cell);
    }
    for (let s = s1; s < s2; s++) {
      di.push(d);
      si.push(s);
      alpha.push(1 / cell);
    }
    if (fs2 - s2 > 1e-3) {
      di.push(d);
      si.push(s2);
      alpha.push(Math.min(Math.min(fs2 - s2, 1), cell) / cell);
    }
  }
  return { di: Int32Array.from(di), si: Int32Array.from(si), alpha: Float32Array.from(alpha) };
}

function resizeArea(img: RgbImage, width: number, height: number): RgbImage {
  const cn = img.channels;
  const sw = img.width;
  const src = img.data;
  const f = Math.fround;
  const xt = areaTab(sw, width);
  const yt = areaTab(img.height, height);
  const rowLen = width * cn;
  const out = new Uint8Array(height * rowLen);
  const buf = new Float32Array(rowLen);
  const sum = new Float32Array(rowLen);
  let prevDy = -1;
  const flush = (dy: number): void => {
    for (let x = 0; x < rowLen; x++) {
      const v = roundHalfEven(sum[x]!);
      out[dy * rowLen + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  };
  // Float32Array stores round every step to float32, as OpenCV's float accumulators do.
  for (let j = 0; j < yt.di.length; j++) {
    const dy = yt.di[j]!;
    const beta = yt.alpha[j]!;
    const base = yt.si[j]! * sw * cn;
    buf.fill(0);
    for (let k = 0; k < xt.di.length; k++) {
      const dxn = xt.di[k]! * cn;
      const sxn = base + xt.si[k]! * cn;
      const a = xt.alpha[k]!;
      for (let c = 0; c < cn; c++) buf[dxn + c] = buf[dxn + c]! + f(src[sxn + c]! * a);
    }
    if (dy !== prevDy) {
      if (prevDy >= 0) flush(prevDy);
      for (let x = 0; x < rowLen; x++) sum[x] = f(beta * buf[x]!);
      prevDy = dy;
    } else {
      for (let x = 0; x < rowLen; x++) sum[x] = sum[x]! + f(beta * buf[x]!);
    }
  }
  if (prevDy >= 0) flush(prevDy);
  return { data: out, width, height, channels: cn };
}
