import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nonMaxSuppression, scaleBoxes } from '../../../src/main/engine/infer/nms.js';
import { parseNpy } from '../../helpers/npy.js';
import { describeShared, shared } from '../../helpers/shared.js';

/** Rows [cx, cy, w, h, obj, ...classScores]. */
function preds(nc: number, rows: number[][]): Float32Array {
  return Float32Array.from(
    rows.flatMap((r) => {
      const out = new Array<number>(5 + nc).fill(0);
      r.forEach((v, i) => (out[i] = v));
      return out;
    }),
  );
}

describe('nonMaxSuppression (YOLOv5 non_max_suppression)', () => {
  it('suppresses overlapping boxes of one class, keeps other classes and far boxes', () => {
    const p = preds(3, [
      [50, 50, 20, 20, 0.9, 0.9, 0.1, 0], // A class 0, score .81
      [52, 50, 20, 20, 0.9, 0.8, 0.1, 0], // overlaps A (IoU .82), class 0: suppressed
      [51, 50, 20, 20, 0.9, 0.1, 0.7, 0], // overlaps A but class 1: kept
      [150, 50, 20, 20, 0.5, 0.9, 0, 0], // class 0 far away: kept
      [10, 10, 5, 5, 0.2, 1, 0, 0], // objectness below conf: dropped
    ]);
    const d = nonMaxSuppression(p, 5, 3);
    expect(d.count).toBe(3);
    expect(Array.from(d.classes)).toEqual([0, 1, 0]);
    expect(Array.from(d.scores).map((s) => Math.round(s * 1000) / 1000)).toEqual([0.81, 0.63, 0.45]);
    expect(Array.from(d.boxes.subarray(0, 4))).toEqual([40, 40, 60, 60]);
    expect(nonMaxSuppression(p, 5, 3, { agnostic: true }).count).toBe(2);
  });
  it('multiLabel gives one detection per class above threshold; maxDet cuts by score', () => {
    const p = preds(2, [[50, 50, 20, 20, 0.9, 0.9, 0.5]]);
    expect(nonMaxSuppression(p, 1, 2).count).toBe(1);
    const m = nonMaxSuppression(p, 1, 2, { multiLabel: true });
    expect(Array.from(m.classes)).toEqual([0, 1]);
    const many = preds(
      1,
      Array.from({ length: 10 }, (_, i) => [i * 100 + 50, 50, 20, 20, 0.5 + i / 100, 1]),
    );
    const top = nonMaxSuppression(many, 10, 1, { maxDet: 3 });
    expect(top.count).toBe(3);
    expect(Array.from(top.boxes.filter((_, i) => i % 4 === 0))).toEqual([940, 840, 740]);
  });
  it('iou threshold is strict: IoU exactly at the threshold is kept', () => {
    // IoU of [0,0,10,10] and [5,0,15,10] is 50/150 = 1/3
    const p = preds(1, [
      [5, 5, 10, 10, 0.9, 1],
      [10, 5, 10, 10, 0.8, 1],
    ]);
    expect(nonMaxSuppression(p, 2, 1, { iouThres: 0.34 }).count).toBe(2);
    expect(nonMaxSuppression(p, 2, 1, { iouThres: 0.33 }).count).toBe(1);
  });
  it('scaleBoxes undoes the letterbox and clips', () => {
    const b = Float32Array.from([40, 0, 280, 320, 0, 10, 400, 20]);
    scaleBoxes([320, 320], b, [1080, 810]);
    expect(Array.from(b).map((v) => Math.round(v * 100) / 100)).toEqual([0, 0, 810, 1080, 0, 33.75, 810, 67.5]);
  });
});

describeShared('nonMaxSuppression on yolov5n decoded output (bus.jpg at 320)', () => {
  it('runs val settings on 6300 rows and a 25k-row worst case; reports time', () => {
    const file = shared('reference', 'bus320-decoded.npy');
    const dec = parseNpy(new Uint8Array(readFileSync(file)), file);
    expect(dec.shape).toEqual([1, 6300, 85]);
    let t = performance.now();
    const d = nonMaxSuppression(dec.data, 6300, 80, { confThres: 0.25, iouThres: 0.45 });
    const ms1 = performance.now() - t;
    // bus.jpg: people and a bus; and exactly what a plain per-class greedy NMS keeps
    expect(new Set(d.classes)).toContain(0);
    expect(new Set(d.classes)).toContain(5);
    const expected = bruteForceNms(dec.data, 6300, 80, 0.25, 0.45);
    expect(Array.from(d.classes)).toEqual(expected.map((e) => e.cls));
    expect(Array.from(d.scores)).toEqual(expected.map((e) => Math.fround(e.score)));
    expect(Array.from(d.boxes)).toEqual(expected.flatMap((e) => e.box.map(Math.fround)));
    // 25200 rows (640 input) built by tiling the 320 output 4 times with small shifts
    const big = new Float32Array(25200 * 85);
    for (let k = 0; k < 4; k++) {
      big.set(dec.data, k * dec.data.length);
      for (let i = 0; i < 6300; i++) big[(k * 6300 + i) * 85] = dec.data[i * 85]! + k * 1.5;
    }
    t = performance.now();
    const v = nonMaxSuppression(big, 25200, 80, { confThres: 0.001, iouThres: 0.6, multiLabel: true, maxDet: 300 });
    const ms2 = performance.now() - t;
    expect(v.count).toBeLessThanOrEqual(300);
    console.log(
      `NMS: 6300 rows conf .25 -> ${d.count} dets in ${ms1.toFixed(1)} ms; 25200 rows val settings -> ${v.count} in ${ms2.toFixed(1)} ms`,
    );
  });
});

/**
 * The plainest NMS, written from YOLOv5's definition rather than the code under test: keep rows
 * with objectness and obj x best-class score above conf, then per class, greedily by score, drop
 * every box whose IoU with a kept one exceeds the threshold; all classes merged by score.
 */
function bruteForceNms(pred: Float32Array, n: number, nc: number, conf: number, iou: number) {
  const no = nc + 5;
  const cands: { box: number[]; score: number; cls: number }[] = [];
  for (let i = 0; i < n; i++) {
    const r = pred.subarray(i * no, (i + 1) * no);
    if (!(r[4]! > conf)) continue;
    let cls = 0;
    for (let c = 1; c < nc; c++) if (r[5 + c]! > r[5 + cls]!) cls = c;
    const score = Math.fround(r[5 + cls]! * r[4]!);
    if (!(score > conf)) continue;
    const [cx, cy, w, h] = [r[0]!, r[1]!, r[2]!, r[3]!];
    cands.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2].map(Math.fround), score, cls });
  }
  const area = (b: number[]) => (b[2]! - b[0]!) * (b[3]! - b[1]!);
  const overlap = (a: number[], b: number[]) => {
    const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
    const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
    return (w * h) / (area(a) + area(b) - w * h);
  };
  const kept: typeof cands = [];
  for (const c of [...cands].sort((a, b) => b.score - a.score)) {
    if (!kept.some((k) => k.cls === c.cls && overlap(k.box, c.box) > iou)) kept.push(c);
  }
  return kept;
}
