/**
 * Average precision per class, as YOLOv5 v7.0 utils/metrics.py `ap_per_class` and `compute_ap`.
 */
import { interp, linspace, trapz } from './numpy.js';

const EPS = 1e-16;

/** Result of `computeAp`: AP and the envelope curve it integrated (with sentinels). */
export interface ApCurve {
  readonly ap: number;
  readonly mrec: Float64Array;
  readonly mpre: Float64Array;
}

/**
 * AP of one recall/precision curve: sentinels (0,1) and (1,0), the precision envelope (running
 * maximum from the right), then 101-point interpolation integrated with the trapezoid rule.
 */
export function computeAp(recall: ArrayLike<number>, precision: ArrayLike<number>): ApCurve {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec[0] = 0;
  mpre[0] = 1;
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i]!;
    mpre[i + 1] = precision[i]!;
  }
  mrec[n + 1] = 1;
  mpre[n + 1] = 0;
  for (let i = n; i >= 0; i--) if (mpre[i + 1]! > mpre[i]!) mpre[i] = mpre[i + 1]!;
  const x = linspace(0, 1, 101);
  return { ap: trapz(interp(x, mrec, mpre), x), mrec, mpre };
}

/**
 * YOLOv5 `smooth`: box filter of fraction f, padded with the edge values (odd width
 * `round(len * f * 2) // 2 + 1`).
 */
export function smooth(y: ArrayLike<number>, f = 0.05): Float64Array {
  const n = y.length;
  const nf = Math.floor(Math.round(n * f * 2) / 2) + 1;
  const half = Math.floor(nf / 2);
  const yp = new Float64Array(n + 2 * half);
  for (let i = 0; i < half; i++) {
    yp[i] = y[0]!;
    yp[n + half + i] = y[n - 1]!;
  }
  for (let i = 0; i < n; i++) yp[half + i] = y[i]!;
  const out = new Float64Array(yp.length - nf + 1);
  const w = 1 / nf;
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < nf; k++) s += yp[i + k]! * w;
    out[i] = s;
  }
  return out;
}

/** Inputs of `apPerClass`: one entry per detection, plus the class of every label. */
export interface ApInputs {
  /** True-positive flags, row-major [nDet, nIou]. */
  readonly tp: Uint8Array;
  readonly nIou: number;
  readonly conf: ArrayLike<number>;
  readonly predCls: ArrayLike<number>;
  readonly targetCls: ArrayLike<number>;
}

/** Output of `apPerClass`, for the classes present in the labels (ascending). */
export interface ApPerClass {
  readonly classes: number[];
  /** Labels per class. */
  readonly nt: number[];
  /** AP per class and IoU threshold, [class][iou]. */
  readonly ap: number[][];
  /** Precision, recall, F1 per class at the best confidence. */
  readonly p: number[];
  readonly r: number[];
  readonly f1: number[];
  /** Confidence (on the 1000-point grid) where the smoothed mean F1 is largest. */
  readonly bestConf: number;
  /** Envelope precision at IoU 0.5 per class on `prRecall`. */
  readonly prPrecision: Float64Array[];
  readonly prRecall: Float64Array;
}

/**
 * Follows YOLOv5 v7.0 ap_per_class: sort by confidence, cumulative TP/FP per class,
 * recall = TP / (n_labels + eps), precision = TP / (TP + FP), AP per IoU threshold via
 * `computeAp`; P and R curves sampled on a 1000-point confidence grid, read where the mean F1
 * smoothed with fraction 0.1 peaks. `prPoints` sets the recall grid of the returned PR curves.
 */
export function apPerClass(inp: ApInputs, prPoints = 101): ApPerClass {
  const nd = inp.conf.length;
  const nIou = inp.nIou;
  // Stable sort by confidence descending (np.argsort(-conf)).
  const order = Array.from({ length: nd }, (_, i) => i).sort((a, b) => inp.conf[b]! - inp.conf[a]! || a - b);
  const counts = new Map<number, number>();
  for (let i = 0; i < inp.targetCls.length; i++) {
    const c = inp.targetCls[i]!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const classes = [...counts.keys()].sort((a, b) => a - b);
  const nt = classes.map((c) => counts.get(c)!);
  const nc = classes.length;
  const px = linspace(0, 1, 1000);
  const negPx = px.map((v) => -v);
  const prRecall = linspace(0, 1, prPoints);
  const ap = classes.map(() => new Array<number>(nIou).fill(0));
  const pCurves: Float64Array[] = classes.map(() => new Float64Array(1000));
  const rCurves: Float64Array[] = classes.map(() => new Float64Array(1000));
  const prPrecision: Float64Array[] = classes.map(() => new Float64Array(prPoints));
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const perClassDets: number[][] = classes.map(() => []);
  for (const d of order) {
    const ci = classIndex.get(inp.predCls[d]!);
    if (ci !== undefined) perClassDets[ci]!.push(d);
  }
  for (let ci = 0; ci < nc; ci++) {
    const dets = perClassDets[ci]!;
    const nl = nt[ci]!;
    const np = dets.length;
    if (np === 0 || nl === 0) continue;
    const negConf = new Float64Array(np);
    for (let k = 0; k < np; k++) negConf[k] = -inp.conf[dets[k]!]!;
    for (let j = 0; j < nIou; j++) {
      const recall = new Float64Array(np);
      const precision = new Float64Array(np);
      let tpc = 0;
      let fpc = 0;
      for (let k = 0; k < np; k++) {
        const t = inp.tp[dets[k]! * nIou + j]!;
        tpc += t;
        fpc += 1 - t;
        recall[k] = tpc / (nl + EPS);
        precision[k] = tpc / (tpc + fpc);
      }
      const res = computeAp(recall, precision);
      ap[ci]![j] = res.ap;
      if (j === 0) {
        rCurves[ci] = interp(negPx, negConf, recall, 0);
        pCurves[ci] = interp(negPx, negConf, precision, 1);
        prPrecision[ci] = interp(prRecall, res.mrec, res.mpre);
      }
    }
  }
  const f1Curves = pCurves.map((p, ci) => {
    const r = rCurves[ci]!;
    return p.map((pv, k) => (2 * pv * r[k]!) / (pv + r[k]! + EPS));
  });
  const meanF1 = new Float64Array(1000);
  for (let k = 0; k < 1000; k++) {
    let s = 0;
    for (let ci = 0; ci < nc; ci++) s += f1Curves[ci]![k]!;
    meanF1[k] = nc > 0 ? s / nc : 0;
  }
  const sm = smooth(meanF1, 0.1);
  let best = 0;
  for (let k = 1; k < sm.length; k++) if (sm[k]! > sm[best]!) best = k;
  return {
    classes,
    nt,
    ap,
    p: pCurves.map((c) => c[best]!),
    r: rCurves.map((c) => c[best]!),
    f1: f1Curves.map((c) => c[best]!),
    bestConf: px[best]!,
    prPrecision,
    prRecall,
  };
}
