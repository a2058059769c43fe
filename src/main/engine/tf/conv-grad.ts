/**
 * Conv2D gradients built from forward convolutions, for the WASM backend.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel (training any conv throws) and its
 * `Conv2DBackpropInput` is ~10x slower than a forward Conv2D. Both gradients are rewritten here as
 * forward convs / matMuls, which XNNPACK runs fast:
 * - dW, 1x1 stride 1 unpadded: `transpose(x as [M,Ci]) @ dy as [M,Co]` (transpose first: matMul
 *   with transposeA is ~12x slower on wasm).
 * - dW, otherwise: conv2d of the batch/channel-swapped input `[Ci,H,W,N]` with the swapped output
 *   gradient `[Ho,Wo,N,Co]` as the filter, stride 1, dilation = the forward stride, the forward
 *   padding applied explicitly. The result `[Ci,kh,kw,Co]` is swapped back.
 * - dx: a "sub-pixel" conv of dy with a kernel rearranged from W: each of the sh*sw output phases
 *   becomes a block of Ci output channels (stride 1: one phase, i.e. the flipped, transposed
 *   kernel), then the phases are interleaved by reshape + 6-D transpose + reshape.
 * Only NHWC with dilation 1 is handled; anything else goes to tfjs' own gradient.
 *
 * Padding: any form tf.conv2d accepts works ('valid', 'same', a number, or the explicit
 * `[[0,0],[p,p],[p,p],[0,0]]` YOLOv5 needs), because the geometry comes from tfjs'
 * computeConv2DInfo. Prefer explicit padding in tf.conv2d over tf.pad + 'valid': the pad op would
 * add a full-size copy of the activation and its own gradient (a slice) per conv.
 */
import * as tf from '@tensorflow/tfjs';

/** Where the gradient of a forward conv is needed: geometry as tfjs computes it. */
export interface ConvGeometry {
  strides: [number, number];
  /** Zero padding before/after each spatial dim, as resolved from the conv's `pad` attribute. */
  pad: { top: number; bottom: number; left: number; right: number };
}

/** Which Conv2D gradient to use: see {@link registerConvGradient}. */
export type ConvGradMode = 'auto' | 'custom' | 'stock';

/** tf.conv2d's pad argument. */
export type ConvPad =
  'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

/**
 * Resolve the padding of a forward `tf.conv2d(x, filter, strides, pad)` (dilation 1, NHWC).
 */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: ConvPad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const p = info.padInfo;
  return {
    strides: [info.strideHeight, info.strideWidth],
    pad: { top: p.top, bottom: p.bottom, left: p.left, right: p.right },
  };
}

/**
 * Gradient of a forward conv with respect to its filter (`[kh,kw,Ci,Co]`), from the conv's input
 * `x` `[N,H,W,Ci]` and the gradient of its output `dy` `[N,Ho,Wo,Co]`.
 */
export function conv2dGradFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly [number, number, number, number],
  geom: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, ci] = x.shape;
    const [, ho, wo, co] = dy.shape;
    const [kh, kw] = filterShape;
    const [sh, sw] = geom.strides;
    const { top, left } = geom.pad;
    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top + geom.pad.bottom + left + geom.pad.right === 0) {
      const m = n * h * w;
      // Transposing dy instead when it is narrower measured no better (the matMul then packs the
      // wider x, itself a strided copy): bench/kernels.ts dw1x1.
      const xt = tf.transpose(tf.reshape(x, [m, ci]));
      return tf.reshape(tf.matMul(xt, tf.reshape(dy, [m, co])), [1, 1, ci, co]);
    }
    // Rows of x (padded coordinates) the forward conv actually read: the last stride window may
    // leave some rows (and part of the padding) unused; they must not reach the output.
    const needH = (ho - 1) * sh + kh;
    const needW = (wo - 1) * sw + kw;
    let xs = tf.transpose(x, [3, 1, 2, 0]); // [Ci,H,W,N]
    const cropH = Math.max(0, h + top - needH);
    const cropW = Math.max(0, w + left - needW);
    if (cropH > 0 || cropW > 0) xs = tf.slice(xs, [0, 0, 0, 0], [ci, h - cropH, w - cropW, n]);
    const padB = needH - (h - cropH) - top;
    const padR = needW - (w - cropW) - left;
    const filt = tf.transpose(dy, [1, 2, 0, 3]); // [Ho,Wo,N,Co]
    const out = tf.conv2d(
      xs as tf.Tensor4D,
      filt as tf.Tensor4D,
      1,
      [
        [0, 0],
        [top, padB],
        [left, padR],
        [0, 0],
      ],
      'NHWC',
      [sh, sw],
    ); // [Ci,kh,kw,Co]
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/** Per spatial dim: which kernel tap feeds each (offset, phase) slot of the sub-pixel kernel. */
interface PhasePlan {
  /** Sub-kernel size along this dim. */
  k2: number;
  /** dy index of sub-kernel tap 0 for output block 0 (may be negative: zero padding). */
  dMin: number;
  /** Kernel tap index for slot t*stride+phase, or k (a zero row) when no tap lands there. */
  taps: number[];
}

function phasePlan(k: number, stride: number, padBefore: number): PhasePlan {
  let dMin = Infinity;
  let dMax = -Infinity;
  for (let p = 0; p < stride; p++) {
    for (let t = 0; t < k; t++) {
      const num = p + padBefore - t;
      if (num % stride !== 0) continue;
      dMin = Math.min(dMin, num / stride);
      dMax = Math.max(dMax, num / stride);
    }
  }
  const k2 = dMax - dMin + 1;
  const taps: number[] = [];
  for (let j = 0; j < k2; j++) {
    // Correlation over dy: output block a reads dy[a + dMin + j].
    const d = dMin + j;
    for (let p = 0; p < stride; p++) {
      const t = p + padBefore - d * stride;
      taps.push(t >= 0 && t < k ? t : k);
    }
  }
  return { k2, dMin, taps };
}

/**
 * Gradient of a forward conv with respect to its input (`xShape` `[N,H,W,Ci]`), from the filter
 * `[kh,kw,Ci,Co]` and the gradient of the conv's output `dy` `[N,Ho,Wo,Co]`.
 */
export function conv2dGradInput(
  xShape: readonly [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  geom: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, ci] = xShape;
    const [, ho, wo, co] = dy.shape;
    const [kh, kw] = filter.shape;
    const [sh, sw] = geom.strides;
    const ph = phasePlan(kh, sh, geom.pad.top);
    const pw = phasePlan(kw, sw, geom.pad.left);
    const ha = Math.ceil(h / sh);
    const wa = Math.ceil(w / sw);

    const kernel = subPixelKernel(filter, ph, pw, sh, sw);

    // dy rows [dMin, ha-1+dMax] are read; outside [0,ho) they are zero padding.
    const [padT, padB, y0, y1] = window(ph.dMin, ha - 1 + ph.dMin + ph.k2 - 1, ho);
    const [padL, padR, x0, x1] = window(pw.dMin, wa - 1 + pw.dMin + pw.k2 - 1, wo);
    let dyc = dy;
    if (y0 > 0 || x0 > 0 || y1 < ho || x1 < wo) dyc = tf.slice(dy, [0, y0, x0, 0], [n, y1 - y0, x1 - x0, co]);
    const out = tf.conv2d(dyc, kernel, 1, [
      [0, 0],
      [padT, padB],
      [padL, padR],
      [0, 0],
    ]); // [N,ha,wa,sh*sw*Ci]

    let full: tf.Tensor4D = out;
    if (sh !== 1 || sw !== 1) {
      const o6 = tf.reshape(out, [n, ha, wa, sh, sw, ci]);
      full = tf.reshape(tf.transpose(o6, [0, 1, 3, 2, 4, 5]), [n, ha * sh, wa * sw, ci]);
    }
    if (ha * sh !== h || wa * sw !== w) full = tf.slice(full, [0, 0, 0, 0], [n, h, w, ci]);
    return full;
  });
}

/**
 * The sub-pixel kernel [k2h,k2w,Co,sh*sw*Ci] (output channels ordered phase row, phase column,
 * Ci): slot (a,b,p,q) holds the transposed tap W[taps_h[a*sh+p], taps_w[b*sw+q]] or zeros.
 * The taps are picked by a matMul with a 0/1 selection matrix (exact): GatherV2 and Reverse run
 * at ~25 ns per element on wasm, 15 ms for a 3x3x128x256 filter against 1 ms.
 */
function subPixelKernel(filter: tf.Tensor4D, ph: PhasePlan, pw: PhasePlan, sh: number, sw: number): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const wt = tf.transpose(filter, [0, 1, 3, 2]); // [kh,kw,Co,Ci]
  const rows = ph.k2 * pw.k2 * sh * sw;
  const identity = rows === kh * kw && ph.taps.every((t, i) => t === i) && pw.taps.every((t, i) => t === i);
  if (identity) return wt as tf.Tensor4D;
  const sel = new Float32Array(rows * kh * kw);
  for (let a = 0; a < ph.k2; a++)
    for (let b = 0; b < pw.k2; b++)
      for (let p = 0; p < sh; p++)
        for (let q = 0; q < sw; q++) {
          const th = ph.taps[a * sh + p] ?? kh;
          const tw = pw.taps[b * sw + q] ?? kw;
          if (th < kh && tw < kw) sel[(((a * pw.k2 + b) * sh + p) * sw + q) * kh * kw + th * kw + tw] = 1;
        }
  const picked = tf.matMul(tf.tensor2d(sel, [rows, kh * kw]), tf.reshape(wt, [kh * kw, co * ci]));
  if (sh === 1 && sw === 1) return tf.reshape(picked, [ph.k2, pw.k2, co, ci]);
  const g5 = tf.reshape(picked, [ph.k2, pw.k2, sh * sw, co, ci]);
  return tf.reshape(tf.transpose(g5, [0, 1, 3, 2, 4]), [ph.k2, pw.k2, co, sh * sw * ci]);
}

/** For a needed index range [lo, hi] over an axis of length len: [padBefore, padAfter, start, end). */
function window(lo: number, hi: number, len: number): [number, number, number, number] {
  const start = Math.max(0, Math.min(lo, len));
  const end = Math.max(start, Math.min(len, hi + 1));
  const before = Math.max(0, -lo);
  return [before, hi - lo + 1 - before - (end - start), start, end];
}

let stockConfig: tf.GradConfig | undefined;
let currentMode: ConvGradMode | undefined;

/**
 * Which halves of the rewritten gradient 'auto' uses per backend (measured, see bench/kernels.ts):
 * on wasm both (dW kernel missing, stock dx ~10x slower); on cpu only dW (the cpu backend's
 * Conv2DBackpropFilter takes ~40x longer, its dx is as fast as ours). Others: tfjs' own.
 */
const AUTO: Record<string, { dx: boolean; dw: boolean }> = {
  wasm: { dx: true, dw: true },
  cpu: { dx: false, dw: true },
};

/**
 * Register the Conv2D gradient (idempotent; a later call changes the mode).
 * - 'auto' (default): per backend as measured: `wasm` both dx and dW rewritten, `cpu` dW only,
 *   `tensorflow` (libtensorflow's native backprop kernels) tfjs' own.
 * - 'custom': the rewritten gradient on every backend; 'stock': tfjs' own everywhere.
 * NCHW or dilated convs always use tfjs' own gradient. Applies to `tf.conv2d` (kernel Conv2D)
 * only: `tf.fused.conv2d` has its own gradient that calls the missing kernel directly, so
 * trainable convs must use tf.conv2d (+ tf.add for a bias).
 */
export function registerConvGradient(mode: ConvGradMode = 'auto'): void {
  if (stockConfig === undefined) {
    const found = tf.getGradient('Conv2D');
    if (found === undefined || found === null)
      throw new Error('tfjs has no Conv2D gradient to wrap (unexpected tfjs build)');
    stockConfig = found;
  }
  if (currentMode === mode) return;
  const stock = stockConfig;
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const auto = AUTO[tf.getBackend()];
      const useDx = mode === 'custom' || (mode === 'auto' && auto !== undefined && auto.dx);
      const useDw = mode === 'custom' || (mode === 'auto' && auto !== undefined && auto.dw);
      const a = attrs as unknown as {
        strides: number | [number, number];
        pad: ConvPad;
        dataFormat: 'NHWC' | 'NCHW';
        dilations: number | [number, number];
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      const dil = Array.isArray(a.dilations) ? a.dilations : [a.dilations, a.dilations];
      if ((!useDx && !useDw) || a.dataFormat === 'NCHW' || dil[0] !== 1 || dil[1] !== 1) {
        return stock.gradFunc(dy, saved, attrs);
      }
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const geom = convGeometry(x.shape, filter.shape, a.strides, a.pad, a.dimRoundingMode);
      const dy4 = dy as tf.Tensor4D;
      const fallback = useDx && useDw ? undefined : stock.gradFunc(dy, saved, attrs);
      return {
        x: useDx || fallback?.x === undefined ? () => conv2dGradInput(x.shape, dy4, filter, geom) : fallback.x,
        filter:
          useDw || fallback?.filter === undefined
            ? () => conv2dGradFilter(x, dy4, filter.shape, geom)
            : fallback.filter,
      };
    },
  });
  currentMode = mode;
}
