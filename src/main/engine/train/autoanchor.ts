/**
 * AutoAnchor (YOLOv5 v7.0 utils/autoanchor.py): before training, measure how well the model's
 * anchors fit the training labels at the training image size; when the best possible recall is
 * below 0.98, compute k-means anchors, evolve them with YOLOv5's genetic search and keep them if
 * they fit better. YOLOv5 runs this by default (`--noautoanchor` turns it off), so fine-tuning
 * the COCO anchors at a small image size (coco128 at 320: BPR 0.96) starts from new anchors.
 *
 * The k-means follows scipy.cluster.vq.kmeans (the one YOLOv5 calls): `iter` restarts from k
 * distinct random observations, Lloyd steps until the mean Euclidean distortion changes by at most
 * `thresh`, empty clusters dropped, the restart with the lowest distortion kept. Random draws come
 * from the run's seeded generator, so the anchors differ from PyTorch's draw for draw but not in kind.
 */
import type { ImageScan } from '../data/scan.js';
import { Rng } from '../data/random.js';
import { floatToHalfBits, halfBitsToFloatBits } from '../weights/fp16.js';

/** Label sizes [w, h] in pixels, flattened. */
export type WhList = Float64Array;

/** BPR below this recomputes anchors (check_anchors). */
export const BPR_THRESHOLD = 0.98;

/**
 * Label widths and heights in pixels when each image's longer side is `imgSize`
 * (`imgsz * shapes / shapes.max(1)`), each image optionally scaled by `scale(i)`.
 */
export function labelSizes(
  images: readonly Pick<ImageScan, 'width' | 'height' | 'rows'>[],
  imgSize: number,
  scale: (imageIndex: number) => number = () => 1,
): WhList {
  const out: number[] = [];
  images.forEach((img, i) => {
    const m = Math.max(img.width, img.height);
    if (m <= 0) return;
    const s = scale(i);
    const sw = ((imgSize * img.width) / m) * s;
    const sh = ((imgSize * img.height) / m) * s;
    for (const r of img.rows) out.push(r.w * sw, r.h * sh);
  });
  return Float64Array.from(out);
}

/** For each label, the ratio metric min(r, 1/r) over w and h, best over the anchors. */
function bestRatios(wh: WhList, anchors: ArrayLike<number>, thr: number): { best: Float64Array; above: number } {
  const n = wh.length / 2;
  const na = anchors.length / 2;
  const best = new Float64Array(n);
  let above = 0;
  for (let i = 0; i < n; i++) {
    const w = wh[2 * i]!;
    const h = wh[2 * i + 1]!;
    let b = 0;
    for (let a = 0; a < na; a++) {
      const rw = w / anchors[2 * a]!;
      const rh = h / anchors[2 * a + 1]!;
      const x = Math.min(Math.min(rw, 1 / rw), Math.min(rh, 1 / rh));
      if (x > thr) above++;
      if (x > b) b = x;
    }
    best[i] = b;
  }
  return { best, above };
}

/** The fit check_anchors reports: anchors above threshold per label, best possible recall. */
export interface AnchorFit {
  /** Mean number of anchors per label within the anchor_t ratio. */
  readonly anchorsPerTarget: number;
  /** Share of labels that at least one anchor can be assigned to. */
  readonly bpr: number;
}

/** check_anchors' metric for anchors [w0,h0, w1,h1, ...] in pixels; `anchorT` is hyp anchor_t. */
export function anchorFit(wh: WhList, anchors: ArrayLike<number>, anchorT: number): AnchorFit {
  const n = wh.length / 2;
  if (n === 0) return { anchorsPerTarget: 0, bpr: 1 };
  const thr = 1 / anchorT;
  const { best, above } = bestRatios(wh, anchors, thr);
  let hit = 0;
  for (const b of best) if (b > thr) hit++;
  return { anchorsPerTarget: above / n, bpr: hit / n };
}

/** kmean_anchors' fitness: mean over labels of the best ratio, counting only those above threshold. */
export function anchorFitness(wh: WhList, anchors: ArrayLike<number>, anchorT: number): number {
  const n = wh.length / 2;
  if (n === 0) return 0;
  const thr = 1 / anchorT;
  const { best } = bestRatios(wh, anchors, thr);
  let sum = 0;
  for (const b of best) if (b > thr) sum += b;
  return sum / n;
}

/** scipy.cluster.vq.kmeans result: centroids (flattened, `dim` each) and mean Euclidean distortion. */
export interface KMeansResult {
  readonly centroids: Float64Array;
  readonly distortion: number;
}

/** One assignment pass: nearest centroid per point and the mean distance. */
function assign(points: Float64Array, dim: number, book: Float64Array, codes: Int32Array): number {
  const n = points.length / dim;
  const k = book.length / dim;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let bestD = Infinity;
    let bestC = 0;
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const diff = points[i * dim + j]! - book[c * dim + j]!;
        d += diff * diff;
      }
      if (d < bestD) {
        bestD = d;
        bestC = c;
      }
    }
    codes[i] = bestC;
    total += Math.sqrt(bestD);
  }
  return n > 0 ? total / n : 0;
}

/** Means of the points of each cluster; clusters without points are dropped (scipy update_cluster_means). */
function clusterMeans(points: Float64Array, dim: number, codes: Int32Array, k: number): Float64Array {
  const n = points.length / dim;
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    counts[c]! += 1;
    for (let j = 0; j < dim; j++) sums[c * dim + j]! += points[i * dim + j]!;
  }
  const kept: number[] = [];
  for (let c = 0; c < k; c++) {
    if (counts[c]! === 0) continue;
    for (let j = 0; j < dim; j++) kept.push(sums[c * dim + j]! / counts[c]!);
  }
  return Float64Array.from(kept);
}

/**
 * One k-means from a first guess, as scipy's _kmeans: assign, move the centroids (dropping empty
 * ones), until the mean distance changed by at most `thresh`. Returns the last centroids and the
 * mean distance of the last assignment (scipy.cluster.vq.kmeans(obs, guess) gives the same).
 */
export function kmeansFrom(points: Float64Array, dim: number, guess: Float64Array, thresh = 1e-5): KMeansResult {
  const codes = new Int32Array(points.length / dim);
  let book = guess;
  let last = Infinity;
  let diff = Infinity;
  while (diff > thresh) {
    const distortion = assign(points, dim, book, codes);
    book = clusterMeans(points, dim, codes, book.length / dim);
    diff = Math.abs(last - distortion);
    last = distortion;
  }
  return { centroids: book, distortion: last };
}

/**
 * k-means as scipy.cluster.vq.kmeans(obs, k, iter, thresh): `iter` starts from k distinct random
 * observations, the lowest distortion kept; may return fewer than k centroids when clusters empty
 * (as scipy does). `points` are flattened rows of `dim` values.
 */
export function kmeans(points: Float64Array, dim: number, k: number, rng: Rng, iter = 20, thresh = 1e-5): KMeansResult {
  const n = points.length / dim;
  if (!Number.isInteger(n) || n < k || k < 1) throw new RangeError(`kmeans: ${n} points cannot make ${k} clusters`);
  let best: KMeansResult = { centroids: new Float64Array(0), distortion: Infinity };
  for (let r = 0; r < iter; r++) {
    // scipy _kpoints: rng.choice(n, k, replace=False).
    const picks = new Set<number>();
    while (picks.size < k) picks.add(rng.below(n));
    const guess = new Float64Array(k * dim);
    [...picks].forEach((p, c) => guess.set(points.subarray(p * dim, p * dim + dim), c * dim));
    const result = kmeansFrom(points, dim, guess, thresh);
    if (result.distortion < best.distortion) best = result;
  }
  return best;
}

/** Anchors sorted small to large by area (print_results). */
function sortByArea(anchors: Float64Array): Float64Array {
  const pairs: [number, number][] = [];
  for (let i = 0; i < anchors.length; i += 2) pairs.push([anchors[i]!, anchors[i + 1]!]);
  pairs.sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  return Float64Array.from(pairs.flat());
}

/**
 * The label sizes kmean_anchors fits: at least 2 pixels on one side, as float32 values; and how
 * many labels are under 3 pixels on a side (YOLOv5 warns about those).
 */
export function fitSizes(
  images: readonly Pick<ImageScan, 'width' | 'height' | 'rows'>[],
  imgSize: number,
): { wh: WhList; tinyLabels: number } {
  const wh0 = labelSizes(images, imgSize);
  let tinyLabels = 0;
  const kept: number[] = [];
  for (let i = 0; i < wh0.length; i += 2) {
    const w = wh0[i]!;
    const h = wh0[i + 1]!;
    if (w < 3 || h < 3) tinyLabels++;
    if (w >= 2 || h >= 2) kept.push(Math.fround(w), Math.fround(h));
  }
  return { wh: Float64Array.from(kept), tinyLabels };
}

export interface KmeanAnchorsOptions {
  /** Number of anchors (nl * na). */
  readonly n: number;
  readonly imgSize: number;
  /** hyp anchor_t. */
  readonly anchorT: number;
  /** Genetic generations (YOLOv5: 1000). */
  readonly generations?: number;
  readonly rng: Rng;
}

export interface KmeanAnchorsResult {
  /** Anchors [w0,h0, ...] in pixels, sorted by area, as float32 values. */
  readonly anchors: Float64Array;
  /** Labels under 3 pixels in width or height (YOLOv5 warns about them). */
  readonly tinyLabels: number;
  /** Labels used for the fit (at least 2 pixels on one side). */
  readonly points: number;
  /** True when k-means could not give n distinct clusters and a random start was used. */
  readonly randomInit: boolean;
}

/** kmean_anchors: k-means on whitened label sizes, then `generations` rounds of mutation. */
export function kmeanAnchors(
  images: readonly Pick<ImageScan, 'width' | 'height' | 'rows'>[],
  opts: KmeanAnchorsOptions,
): KmeanAnchorsResult {
  const { n, imgSize, anchorT, rng } = opts;
  const { wh, tinyLabels } = fitSizes(images, imgSize);
  const m = wh.length / 2;

  let k: Float64Array | undefined;
  let randomInit = false;
  if (m >= n) {
    // Whiten by the per-axis standard deviation (numpy std, ddof 0).
    const sigma = [0, 1].map((axis) => {
      let mean = 0;
      for (let i = axis; i < wh.length; i += 2) mean += wh[i]!;
      mean /= m;
      let v = 0;
      for (let i = axis; i < wh.length; i += 2) v += (wh[i]! - mean) ** 2;
      return Math.sqrt(v / m) || 1;
    }) as [number, number];
    const white = wh.map((v, i) => v / sigma[i % 2]!);
    const { centroids } = kmeans(white, 2, n, rng, 30);
    if (centroids.length === n * 2) k = centroids.map((v, i) => v * sigma[i % 2]!);
  }
  if (!k) {
    // YOLOv5 switches to a random start: n sorted uniform pairs times the image size.
    randomInit = true;
    const r = Array.from({ length: n * 2 }, () => rng.random()).sort((a, b) => a - b);
    k = Float64Array.from(r, (v) => v * imgSize);
  }
  let anchors = sortByArea(k);

  // Evolve: mutate with probability 0.9, sigma 0.1, keep a mutation when the fitness improves.
  let f = anchorFitness(wh, anchors, anchorT);
  const generations = opts.generations ?? 1000;
  const v = new Float64Array(k.length);
  for (let g = 0; g < generations; g++) {
    let changed = false;
    while (!changed) {
      const amount = rng.random();
      for (let i = 0; i < v.length; i++) {
        const mutate = rng.random() < 0.9 ? 1 : 0;
        const x = mutate * amount * rng.gaussian() * 0.1 + 1;
        v[i] = Math.min(3, Math.max(0.3, x));
        if (v[i] !== 1) changed = true;
      }
    }
    const kg: Float64Array = anchors.map((a, i) => Math.max(2, a * v[i]!));
    const fg = anchorFitness(wh, kg, anchorT);
    if (fg > f) {
      f = fg;
      anchors = kg;
    }
  }
  return { anchors: sortByArea(anchors).map((x) => Math.fround(x)), tinyLabels, points: m, randomInit };
}

/** Anchors per level ordered as the strides: reverse the levels when their mean areas run the other way. */
export function checkAnchorOrder(anchors: Float64Array, strides: readonly number[]): Float64Array {
  const nl = strides.length;
  const per = anchors.length / nl;
  const area = (l: number) => {
    let s = 0;
    for (let i = l * per; i < (l + 1) * per; i += 2) s += anchors[i]! * anchors[i + 1]!;
    return s / (per / 2);
  };
  const da = area(nl - 1) - area(0);
  const ds = strides[nl - 1]! - strides[0]!;
  if (da === 0 || Math.sign(da) === Math.sign(ds)) return anchors;
  const out = new Float64Array(anchors.length);
  for (let l = 0; l < nl; l++) out.set(anchors.subarray(l * per, (l + 1) * per), (nl - 1 - l) * per);
  return out;
}

/** Rounds through float16 (train.py's `model.half().float()` after AutoAnchor). */
export function roundToHalf(x: number): number {
  const bits = halfBitsToFloatBits(floatToHalfBits(x));
  return new Float32Array(new Uint32Array([bits]).buffer)[0]!;
}

export interface CheckAnchorsOptions {
  readonly imgSize: number;
  readonly anchorT: number;
  /** Strides per Detect level (8, 16, 32). */
  readonly strides: readonly number[];
  readonly seed: number;
  readonly generations?: number;
}

export interface CheckAnchorsResult {
  /** Anchors in pixels, [w0,h0, ...] level by level, as training will use them. */
  readonly anchors: Float64Array;
  readonly before: AnchorFit;
  /** The fit of the computed anchors, when they were computed. */
  readonly computed?: AnchorFit;
  readonly replaced: boolean;
  /** One paragraph for the run's notes. */
  readonly message: string;
}

function formatAnchors(a: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let i = 0; i < a.length; i += 2) parts.push(`${Math.round(a[i]!)},${Math.round(a[i + 1]!)}`);
  return parts.join(' ');
}

/**
 * check_anchors: the fit of `anchors` (pixels) to the labels at random scales 0.9-1.1; below a BPR
 * of 0.98, k-means anchors replace them if they fit better.
 */
export function checkAnchors(
  images: readonly Pick<ImageScan, 'width' | 'height' | 'rows'>[],
  anchors: Float64Array,
  opts: CheckAnchorsOptions,
): CheckAnchorsResult {
  const rng = new Rng(opts.seed, 0x4a4e43); // 'ANC': a stream of its own, apart from the loader's
  const scales = images.map(() => rng.uniform(0.9, 1.1));
  const wh = labelSizes(images, opts.imgSize, (i) => scales[i]!);
  const before = anchorFit(wh, anchors, opts.anchorT);
  const head = `AutoAnchor at img ${opts.imgSize}: ${before.anchorsPerTarget.toFixed(2)} anchors/target, best possible recall ${before.bpr.toFixed(3)}`;
  if (wh.length === 0 || before.bpr > BPR_THRESHOLD) {
    return { anchors, before, replaced: false, message: `${head}: the anchors fit the labels.` };
  }
  const fit = kmeanAnchors(images, {
    n: anchors.length / 2,
    imgSize: opts.imgSize,
    anchorT: opts.anchorT,
    rng,
    ...(opts.generations !== undefined ? { generations: opts.generations } : {}),
  });
  const computed = anchorFit(wh, fit.anchors, opts.anchorT);
  const notes = [
    fit.tinyLabels > 0 ? `${fit.tinyLabels} of ${wh.length / 2} labels are under 3 pixels at this size.` : '',
    fit.randomInit ? 'k-means found too few distinct sizes; the search started from random anchors.' : '',
  ].filter(Boolean);
  if (computed.bpr > before.bpr) {
    const ordered = checkAnchorOrder(fit.anchors, opts.strides);
    return {
      anchors: ordered,
      before,
      computed,
      replaced: true,
      message:
        `${head} (below ${BPR_THRESHOLD}): replaced by k-means anchors with recall ${computed.bpr.toFixed(3)}: ` +
        `${formatAnchors(ordered)} (were ${formatAnchors(anchors)}). ${notes.map((n) => `${n} `).join('')}` +
        `As in YOLOv5, the pretrained Detect layer must adapt to them; turn AutoAnchor off to keep the weights' anchors.`,
    };
  }
  return {
    anchors,
    before,
    computed,
    replaced: false,
    message:
      `${head} (below ${BPR_THRESHOLD}), but k-means anchors fit no better (${computed.bpr.toFixed(3)}): the anchors are kept. ${notes.join(' ')}`.trim(),
  };
}
