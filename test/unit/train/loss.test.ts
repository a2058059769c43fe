/**
 * computeLoss against a float64 JS transcription of YOLOv5 v7.0 ComputeLoss on small random maps:
 * values, and gradients against central differences that hold the detached parts (CIoU alpha,
 * objectness targets) fixed, as autograd does. Label smoothing, pos_weight and focal loss included.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { bboxCiou, computeLoss, type LossContext, type LossHyp } from '../../../src/main/engine/train/loss.js';
import { buildTargets, type LevelTargets } from '../../../src/main/engine/train/targets.js';
import { useCpu, useWasm } from '../tf/util.js';

interface Map5 {
  shape: [number, number, number, number, number];
  data: Float64Array;
}
interface Detached {
  alpha: number[][];
  tobj: Float64Array[];
}

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
function bce(x: number, t: number, pw: number, gamma: number): number {
  let l = (1 - t) * x + (1 + (pw - 1) * t) * softplus(-x);
  if (gamma > 0) {
    const p = sig(x);
    const pt = t * p + (1 - t) * (1 - p);
    l *= (t * 0.25 + (1 - t) * 0.75) * (1 - pt) ** gamma;
  }
  return l;
}

/** bbox_iou(CIoU=True) in float64; returns [ciou, iou, v]. */
function ciou(b1: number[], b2: number[], alpha?: number): [number, number, number] {
  const eps = 1e-7;
  const [x1 = 0, y1 = 0, w1 = 0, h1 = 0] = b1;
  const [x2 = 0, y2 = 0, w2 = 0, h2 = 0] = b2;
  const [ax1, ax2, ay1, ay2] = [x1 - w1 / 2, x1 + w1 / 2, y1 - h1 / 2, y1 + h1 / 2];
  const [bx1, bx2, by1, by2] = [x2 - w2 / 2, x2 + w2 / 2, y2 - h2 / 2, y2 + h2 / 2];
  const inter =
    Math.max(Math.min(ax2, bx2) - Math.max(ax1, bx1), 0) * Math.max(Math.min(ay2, by2) - Math.max(ay1, by1), 0);
  const iou = inter / (w1 * h1 + w2 * h2 - inter + eps);
  const cw = Math.max(ax2, bx2) - Math.min(ax1, bx1);
  const ch = Math.max(ay2, by2) - Math.min(ay1, by1);
  const c2 = cw ** 2 + ch ** 2 + eps;
  const rho2 = ((bx1 + bx2 - ax1 - ax2) ** 2 + (by1 + by2 - ay1 - ay2) ** 2) / 4;
  const v = (4 / Math.PI ** 2) * (Math.atan(w2 / h2) - Math.atan(w1 / h1)) ** 2;
  const a = alpha ?? v / (v - iou + (1 + eps));
  return [iou - (rho2 / c2 + v * a), iou, v];
}

function refLoss(maps: Map5[], built: LevelTargets[], hyp: LossHyp, nc: number, fixed?: Detached) {
  const balance = maps.length === 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02];
  const cp = 1 - 0.5 * hyp.label_smoothing;
  const cn = 0.5 * hyp.label_smoothing;
  const no = nc + 5;
  let lbox = 0;
  let lobj = 0;
  let lcls = 0;
  const detached: Detached = { alpha: [], tobj: [] };
  maps.forEach((m, l) => {
    const lt = built[l] as LevelTargets;
    const rows = m.data.length / no;
    const tobj = new Float64Array(rows);
    const alphas: number[] = [];
    if (lt.n > 0) {
      let boxSum = 0;
      let clsSum = 0;
      for (let i = 0; i < lt.n; i++) {
        const r = lt.row[i] ?? 0;
        const p = (c: number): number => m.data[r * no + c] ?? NaN;
        const pb = [
          sig(p(0)) * 2 - 0.5,
          sig(p(1)) * 2 - 0.5,
          (sig(p(2)) * 2) ** 2 * (lt.anchorWh[i * 2] ?? 0),
          (sig(p(3)) * 2) ** 2 * (lt.anchorWh[i * 2 + 1] ?? 0),
        ];
        const tb = [...lt.tbox.subarray(i * 4, i * 4 + 4)];
        const [c, iou, v] = ciou(pb, tb, fixed?.alpha[l]?.[i]);
        alphas.push(v / (v - iou + (1 + 1e-7)));
        boxSum += 1 - c;
        tobj[r] = Math.max(c, 0); // last write wins
        if (nc > 1) {
          for (let k = 0; k < nc; k++) clsSum += bce(p(5 + k), k === lt.cls[i] ? cp : cn, hyp.cls_pw, hyp.fl_gamma);
        }
      }
      lbox += boxSum / lt.n;
      if (nc > 1) lcls += clsSum / (lt.n * nc);
    }
    const t = fixed?.tobj[l] ?? tobj;
    let objSum = 0;
    for (let r = 0; r < rows; r++) objSum += bce(m.data[r * no + 4] ?? NaN, t[r] ?? 0, hyp.obj_pw, hyp.fl_gamma);
    lobj += (objSum / rows) * (balance[l] ?? 0);
    detached.alpha.push(alphas);
    detached.tobj.push(tobj);
  });
  const bs = maps[0]?.shape[0] ?? 0;
  lbox *= hyp.box;
  lobj *= hyp.obj;
  lcls *= hyp.cls;
  return { total: (lbox + lobj + lcls) * bs, lbox, lobj, lcls, detached };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function setup(nc: number, seed: number) {
  const r = rng(seed);
  const bs = 2;
  const na = 3;
  const grids = [8, 4, 2];
  const maps: Map5[] = grids.map((g) => {
    const shape: Map5['shape'] = [bs, na, g, g, nc + 5];
    const data = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 4);
    return { shape, data };
  });
  // anchors in grid units for strides 8, 16, 32 of a 64-pixel input
  const anchors = [
    Float32Array.of(10, 13, 16, 30, 33, 23).map((v) => v / 8),
    Float32Array.of(30, 61, 62, 45, 59, 119).map((v) => v / 16),
    Float32Array.of(116, 90, 156, 198, 373, 326).map((v) => v / 32),
  ];
  const rowsT: number[] = [];
  for (let i = 0; i < 7; i++) {
    rowsT.push(i % bs, Math.floor(r() * nc), 0.1 + 0.8 * r(), 0.1 + 0.8 * r(), 0.05 + 0.6 * r(), 0.05 + 0.6 * r());
  }
  rowsT.push(...rowsT.slice(0, 6)); // a duplicate target: the same cells assigned twice
  return { maps, anchors, targets: Float32Array.from(rowsT) };
}

const HYP: LossHyp = {
  box: 0.05,
  obj: 0.0625,
  cls: 0.5 * (3 / 80),
  cls_pw: 1.3,
  obj_pw: 0.8,
  anchor_t: 4.0,
  fl_gamma: 0,
  label_smoothing: 0.1,
};

async function run(backend: 'wasm' | 'cpu', nc: number, hyp: LossHyp, seed: number): Promise<void> {
  await (backend === 'wasm' ? useWasm() : useCpu());
  const { maps, anchors, targets } = setup(nc, seed);
  const ctx: LossContext = { anchors, strides: [8, 16, 32], nc, hyp };
  const shapes = maps.map((m) => ({ bs: m.shape[0], na: m.shape[1], ny: m.shape[2], nx: m.shape[3] }));
  const built = buildTargets(targets, shapes, anchors, hyp.anchor_t);
  expect(built.reduce((a, l) => a + l.n, 0)).toBeGreaterThan(10);
  // maps rounded to float32 so both sides see the same inputs
  maps.forEach((m) => m.data.set(Float32Array.from(m.data)));
  const want = refLoss(maps, built, hyp, nc);

  const before = tf.memory().numTensors;
  const raws = maps.map((m) => tf.tensor(Float32Array.from(m.data), m.shape) as tf.Tensor5D);
  let got: number[] = [];
  const grads = tf.tidy(() => {
    const g = tf.grads((...xs: tf.Tensor[]) => {
      const l = computeLoss(xs as tf.Tensor5D[], targets, ctx);
      got = [l.total, l.lbox, l.lobj, l.lcls].map((t) => t.dataSync()[0] ?? NaN);
      return l.total;
    });
    return g(raws).map((t) => t.dataSync());
  });
  tf.dispose(raws);
  expect(tf.memory().numTensors).toBe(before);
  const wantTerms = [want.total, want.lbox, want.lobj, want.lcls];
  got.forEach((v, i) => expect(Math.abs(v - (wantTerms[i] ?? NaN))).toBeLessThan(2e-6 * Math.abs(want.total) + 1e-9));

  // central differences with alpha and tobj held at their values at the base point
  const h = 1e-5;
  const no = nc + 5;
  let checked = 0;
  maps.forEach((m, l) => {
    const picks = new Set<number>();
    const lt = built[l] as LevelTargets;
    for (let i = 0; i < Math.min(lt.n, 4); i++) for (let c = 0; c < no; c++) picks.add((lt.row[i] ?? 0) * no + c);
    picks.add(4); // an objectness logit of a cell without a target (most likely)
    for (const idx of picks) {
      const keep = m.data[idx] ?? 0;
      m.data[idx] = keep + h;
      const up = refLoss(maps, built, hyp, nc, want.detached).total;
      m.data[idx] = keep - h;
      const down = refLoss(maps, built, hyp, nc, want.detached).total;
      m.data[idx] = keep;
      const fd = (up - down) / (2 * h);
      const g = grads[l]?.[idx] ?? NaN;
      expect(Math.abs(g - fd), `${backend} level ${l} element ${idx}: ${g} vs ${fd}`).toBeLessThan(
        2e-4 * Math.abs(fd) + 2e-7,
      );
      checked++;
    }
  });
  expect(checked).toBeGreaterThan(20);
}

describe('computeLoss vs a float64 transcription of ComputeLoss', () => {
  afterAll(async () => {
    await useWasm();
  });

  it('matches values and gradients on wasm (nc=3, label smoothing, pos_weight)', async () => {
    await run('wasm', 3, HYP, 1);
  });

  it('matches with focal loss (fl_gamma 1.5) on wasm', async () => {
    await run('wasm', 3, { ...HYP, fl_gamma: 1.5, label_smoothing: 0 }, 2);
  });

  it('has no class loss for nc=1 and matches on the cpu backend', async () => {
    await run('cpu', 1, { ...HYP, cls_pw: 1, obj_pw: 1 }, 3);
  });

  it('gives box and class loss 0 without targets', async () => {
    await useWasm();
    const { maps, anchors } = setup(3, 4);
    const raws = maps.map((m) => tf.tensor(Float32Array.from(m.data), m.shape) as tf.Tensor5D);
    const l = tf.tidy(() => {
      const r = computeLoss(raws, new Float32Array(0), { anchors, strides: [8, 16, 32], nc: 3, hyp: HYP });
      return [r.lbox, r.lobj, r.lcls].map((t) => t.dataSync()[0]);
    });
    expect(l[0]).toBe(0);
    expect(l[2]).toBe(0);
    expect(l[1]).toBeGreaterThan(0);
    const ctx = { anchors, strides: [8, 16, 32], nc: 3, hyp: HYP };
    expect(() => tf.tidy(() => computeLoss(raws, Float32Array.of(0, 3, 0.5, 0.5, 0.2, 0.2), ctx).total)).toThrow(
      /class 3 outside 0..2/,
    );
    tf.dispose(raws);
  });
});

describe('bboxCiou', () => {
  it('equals the float64 formula, 1 for identical boxes, and below IoU for offset boxes', async () => {
    await useWasm();
    const b1 = [
      [1, 1, 2, 2],
      [0.5, 0.2, 1, 3],
      [3, 3, 1, 1],
    ];
    const b2 = [
      [1, 1, 2, 2],
      [0.6, 0.1, 1.5, 2],
      [0, 0, 1, 1],
    ];
    const got = tf.tidy(() => bboxCiou(tf.tensor2d(b1), tf.tensor2d(b2)).dataSync());
    b1.forEach((b, i) => expect(got[i]).toBeCloseTo(ciou(b, b2[i] ?? [])[0], 6));
    expect(got[0]).toBeCloseTo(1, 6);
    expect(got[2]).toBeLessThan(0);
  });
});
