import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { computeAp, smooth } from '../../../src/main/engine/eval/ap.js';
import { boxIou, xywh2xyxy } from '../../../src/main/engine/eval/box.js';
import { ConfusionMatrix } from '../../../src/main/engine/eval/confusion.js';
import { Evaluator } from '../../../src/main/engine/eval/evaluator.js';
import { IOU_THRESHOLDS, matchDetections } from '../../../src/main/engine/eval/match.js';
import { interp1, linspace, roundHalfEven } from '../../../src/main/engine/eval/numpy.js';
import { describeShared, shared } from '../../helpers/shared.js';

describe('numpy semantics', () => {
  it('interp takes the last of duplicate xp and clamps with left/right', () => {
    expect(interp1(0, [0, 0, 1], [1, 0.5, 0.5])).toBe(0.5);
    expect(interp1(-1, [0, 1], [2, 4], 7)).toBe(7);
    expect(interp1(0.25, [0, 1], [2, 4])).toBe(2.5);
    expect(interp1(2, [0, 1], [2, 4])).toBe(4);
  });
  it('linspace ends exactly on stop; round is half-to-even', () => {
    const x = linspace(0, 1, 101);
    expect(x[100]).toBe(1);
    expect(x[1]).toBeCloseTo(0.01, 15);
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2]);
  });
  it('roundHalfEven: ties to even on both signs, plain rounding otherwise, never -0', () => {
    // Ties go to the even neighbour, below and above zero.
    expect([0.5, 1.5, 2.5, 3.5, -2.5, -3.5, 1e6 + 0.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, -2, -4, 1e6]);
    // Non-ties round to the nearest integer, negatives included.
    expect([2.4, 2.6, -2.4, -2.6, -1.2, 7].map(roundHalfEven)).toEqual([2, 3, -2, -3, -1, 7]);
    // Math.round(-0.4) and Math.round(-0.5) are -0; Python's int round() gives 0.
    for (const v of [-0, -0.4, -0.5, -1e-9]) expect(Object.is(roundHalfEven(v), 0)).toBe(true);
  });
});

describe('computeAp / smooth', () => {
  it('perfect detections give 0.995, as YOLOv5 (the sentinel precision 0 at recall 1)', () => {
    expect(computeAp([0.5, 1], [1, 1]).ap).toBeCloseTo(0.995, 12);
  });
  it('FP then TP: envelope 0.5 up to recall 1, 101-point trapezoid', () => {
    // mrec [0,0,1,1], mpre envelope [1,.5,.5,0]: 0.5 on [0, .99], then (0.5+0)/2 * 0.01
    expect(computeAp([0, 1], [0, 0.5]).ap).toBeCloseTo(0.4975, 12);
  });
  it('smooth keeps length and constants, averages a step', () => {
    const s = smooth(new Float64Array(1000).fill(0.3), 0.1);
    expect(s.length).toBe(1000);
    expect(s[500]).toBeCloseTo(0.3, 12);
    const step = smooth(
      Float64Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0 : 1)),
      0.1,
    );
    expect(step[499]).toBeCloseTo(50 / 101, 12); // 101-wide box filter: 50 ones in 449..549
  });
});

describe('matchDetections (val.py process_batch)', () => {
  const label = [0, 0, 10, 10];
  it('each label matched once; the lower-index detection wins, not the higher IoU', () => {
    // det0 IoU 0.6 (more confident, first), det1 IoU 0.9
    const dets = [0, 0, 10, 6, 0, 0, 10, 9];
    const c = matchDetections(dets, [1, 1], label, [1]);
    const nt = IOU_THRESHOLDS.length;
    expect(boxIou(label, dets).map((v) => Math.round(v * 100) / 100)).toEqual(Float64Array.from([0.6, 0.9]));
    expect(c[0 * nt + 0]).toBe(1); // 0.50: det0
    expect(c[1 * nt + 0]).toBe(0);
    expect(c[0 * nt + 6]).toBe(0); // 0.80: only det1 qualifies
    expect(c[1 * nt + 6]).toBe(1);
    expect(c[1 * nt + 9]).toBe(0); // 0.95: none
  });
  it('a detection of another class never matches', () => {
    expect(Array.from(matchDetections([0, 0, 10, 10], [2], label, [1]))).toEqual(new Array(10).fill(0));
  });
  it('a detection overlapping two labels takes the higher IoU one', () => {
    const labels = [0, 0, 10, 10, 0, 0, 10, 8];
    const c = matchDetections([0, 0, 10, 9], [0], labels, [0, 0]);
    expect(c[0]).toBe(1);
    expect(c[9]).toBe(0);
  });
});

describe('ConfusionMatrix', () => {
  it('counts correct, missed (background row) and false (background column) as YOLOv5', () => {
    const cm = new ConfusionMatrix(2, 0.25, 0.45);
    // label class 0 matched by a class-1 detection; label class 1 missed; an extra class-0 detection far away
    cm.processBatch(
      [0, 0, 10, 10, 50, 50, 60, 60, 0, 0, 10, 10],
      [0.9, 0.8, 0.1],
      [1, 0, 0],
      [0, 0, 10, 10, 100, 100, 110, 110],
      [0, 1],
    );
    const m = cm.toData().counts;
    const at = (p: number, t: number): number => m[p * 3 + t]!;
    expect(at(1, 0)).toBe(1);
    expect(at(2, 1)).toBe(1);
    expect(at(0, 2)).toBe(1); // unmatched detection above conf; the 0.1 one is ignored
    expect(m.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('Evaluator', () => {
  it('perfect predictions score 0.995 and reach the fitness formula', () => {
    const ev = new Evaluator({ nc: 3, names: ['a', 'b', 'c'] });
    ev.add(
      { boxes: [0, 0, 10, 10, 20, 20, 40, 40], conf: [0.9, 0.8], cls: [0, 2] },
      { boxes: [0, 0, 10, 10, 20, 20, 40, 40], cls: [0, 2] },
    );
    ev.add({ boxes: [], conf: [], cls: [] }, { boxes: [5, 5, 9, 9], cls: [2] });
    const r = ev.result();
    expect(r.images).toBe(2);
    expect(r.perClass.map((c) => [c.name, c.instances, c.images])).toEqual([
      ['a', 1, 1],
      ['c', 2, 2],
    ]);
    expect(r.perClass[0]!.ap50).toBeCloseTo(0.995, 9);
    expect(r.perClass[1]!.ap50).toBeCloseTo(0.75, 9); // one of two labels found: P 1 to R .5, then down to the sentinel
    expect(r.fitness).toBeCloseTo(0.1 * r.map50 + 0.9 * r.map50_95, 12);
    expect(r.prCurves[0]!.precision.length).toBe(r.prRecall.length);
    expect(r.confusion.counts[3 * 4 + 2]).toBe(1); // the missed class-2 label
  });
});

function rows(file: string): number[][] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/).map(Number));
}

describeShared('Evaluator on the official val.py predictions (coco128, yolov5n, 640)', () => {
  it('reproduces EXPECTED.json P, R, mAP50, mAP50-95 within 1e-4', async () => {
    const ref = shared('reference', 'val-yolov5n-coco128-640');
    const imgDir = shared('data', 'coco128', 'images', 'train2017');
    const lblDir = shared('data', 'coco128', 'labels', 'train2017');
    const expected = JSON.parse(readFileSync(path.join(ref, 'EXPECTED.json'), 'utf8')).recomputed_from_these_txt_files;
    const ev = new Evaluator({ nc: 80 });
    for (const f of readdirSync(imgDir).sort()) {
      const stem = f.replace(/\.[^.]+$/, '');
      const { width, height } = await sharp(path.join(imgDir, f)).metadata();
      // Both to original pixels, as val.py compares them (normalized coordinates miss by 2e-5 in float32).
      const p = rows(path.join(ref, `${stem}.txt`));
      const l = rows(path.join(lblDir, `${stem}.txt`));
      ev.add(
        {
          boxes: xywh2xyxy(
            p.flatMap((r) => r.slice(1, 5)),
            width,
            height,
          ),
          conf: p.map((r) => r[5]!),
          cls: p.map((r) => r[0]!),
        },
        {
          boxes: xywh2xyxy(
            l.flatMap((r) => r.slice(1, 5)),
            width,
            height,
          ),
          cls: l.map((r) => r[0]!),
        },
      );
    }
    const r = ev.result();
    console.log(
      `coco128 eval: P ${r.precision.toFixed(6)} R ${r.recall.toFixed(6)} mAP50 ${r.map50.toFixed(6)} mAP50-95 ${r.map50_95.toFixed(6)}`,
    );
    expect(r.images).toBe(128);
    expect(Math.abs(r.precision - expected.P)).toBeLessThan(1e-4);
    expect(Math.abs(r.recall - expected.R)).toBeLessThan(1e-4);
    expect(Math.abs(r.map50 - expected.mAP50)).toBeLessThan(1e-4);
    expect(Math.abs(r.map50_95 - expected.mAP50_95)).toBeLessThan(1e-4);
  });
});
