import { describe, expect, it } from 'vitest';
import {
  csvField,
  PREDICTIONS_CSV_COLUMNS,
  predictionsCsv,
  type PredictionImage,
} from '../../../src/shared/commands/predictions.js';
import { assignAt, compareImage, disagreementOrder, MATCH_IOU } from '../../../src/main/engine/eval/disagreements.js';
import { boxIou } from '../../../src/main/engine/eval/box.js';
import { matchDetections } from '../../../src/main/engine/eval/match.js';
import { mulberry32 } from '../../../src/shared/random.js';

// Labels (corner boxes): A cls 0, B cls 1, C cls 2; region D has no label.
const A = [10, 10, 50, 50];
const B = [100, 10, 150, 60];
const C = [10, 100, 60, 160];
const D = [200, 200, 260, 260];
const D2 = [300, 10, 340, 40];
const labels = { boxes: [...A, ...B, ...C], cls: [0, 1, 2], lines: [1, 2, 3] };

describe('compareImage: the disagreement rules on hand-made boxes', () => {
  // In NMS order (confidence descending).
  const dets = {
    boxes: [...A, ...D, ...[101, 11, 150, 60], ...[11, 10, 50, 51], ...D2, ...C],
    conf: [0.9, 0.8, 0.7, 0.6, 0.3, 0.1],
    cls: [0, 2, 0, 0, 3, 2],
  };
  const c = compareImage(dets, labels, { conf: 0.25, confident: 0.5 });

  it('counts TP, FP and FN at IoU 0.5 over the displayed predictions only', () => {
    expect(c.shown).toBe(5); // the 0.1 detection on C is below the display threshold
    expect([c.tp, c.fp, c.fn]).toEqual([1, 4, 2]);
    expect(Array.from(c.correct)).toEqual([1, 0, 0, 0, 0]);
    expect(Array.from(c.matchedBy)).toEqual([0, -1, -1]);
  });

  it('lists a missed label, an unlabelled confident prediction and a class confusion, nothing for a correct one', () => {
    expect(c.disagreements.map((d) => d.kind)).toEqual(['missed', 'unlabelled', 'confusion']);
    const [missed, unlabelled, confusion] = c.disagreements;
    // C is found only below the display confidence: missed, with its label line.
    expect(missed).toMatchObject({ kind: 'missed', cls: 2, line: 3, box: { x: 10, y: 100, w: 50, h: 60 } });
    expect(unlabelled).toMatchObject({ kind: 'unlabelled', cls: 2, conf: 0.8, box: { x: 200, y: 200, w: 60, h: 60 } });
    // The prediction of class 0 over the class-1 label B: a candidate wrong label.
    expect(confusion).toMatchObject({ kind: 'confusion', cls: 1, predCls: 0, conf: 0.7, line: 2 });
    expect(confusion!.iou).toBeGreaterThan(0.9);
    // The duplicate on A (0.6) and the unconfident one on D2 (0.3) are FP but not listed.
    expect(c.score).toBeCloseTo(1 + 0.8 + 0.7, 12);
  });

  it('a lower display threshold turns the missed label into a TP', () => {
    const low = compareImage(dets, labels, { conf: 0.05 });
    expect([low.tp, low.fp, low.fn]).toEqual([2, 4, 1]);
    expect(low.disagreements.map((d) => d.kind)).toEqual(['unlabelled', 'confusion']);
  });

  it('an unlabelled prediction needs the confident threshold', () => {
    const strict = compareImage(dets, labels, { conf: 0.25, confident: 0.85 });
    expect(strict.disagreements.map((d) => d.kind)).toEqual(['missed', 'confusion']);
  });

  it('an image that agrees has no disagreements and score 0; no labels and no predictions are fine', () => {
    const good = compareImage(
      { boxes: [...A, ...B], conf: [0.9, 0.8], cls: [0, 1] },
      { boxes: [...A, ...B], cls: [0, 1] },
    );
    expect([good.tp, good.fp, good.fn, good.score, good.disagreements.length]).toEqual([2, 0, 0, 0, 0]);
    const empty = compareImage({ boxes: [], conf: [], cls: [] }, { boxes: [], cls: [] });
    expect([empty.tp, empty.fp, empty.fn, empty.score]).toEqual([0, 0, 0, 0]);
    const onlyLabels = compareImage({ boxes: [], conf: [], cls: [] }, labels);
    expect(onlyLabels.disagreements.map((d) => d.kind)).toEqual(['missed', 'missed', 'missed']);
    expect(onlyLabels.score).toBe(3);
  });

  it('refuses detections out of confidence order', () => {
    expect(() => compareImage({ boxes: [...A, ...B], conf: [0.1, 0.9], cls: [0, 1] }, labels)).toThrow(/descending/);
  });
});

describe('the matching is val matching at 0.5', () => {
  it('assignAt marks exactly the detections matchDetections marks correct, on random crowded images', () => {
    const rand = mulberry32(15);
    for (let trial = 0; trial < 400; trial++) {
      const nl = Math.floor(rand() * 8);
      const nd = Math.floor(rand() * 12);
      const mk = (n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          // Boxes on a coarse grid so that IoU ties and near-0.5 overlaps happen.
          const x = Math.floor(rand() * 6) * 10;
          const y = Math.floor(rand() * 6) * 10;
          const w = 10 + Math.floor(rand() * 4) * 10;
          const h = 10 + Math.floor(rand() * 4) * 10;
          out.push(x, y, x + w, y + h);
        }
        return out;
      };
      const lb = mk(nl);
      const db = mk(nd);
      const lc = Array.from({ length: nl }, () => Math.floor(rand() * 3));
      const dc = Array.from({ length: nd }, () => Math.floor(rand() * 3));
      const flags = matchDetections(db, dc, lb, lc);
      const { labelOf } = assignAt(boxIou(lb, db, true), dc, lc);
      for (let d = 0; d < nd; d++) expect(labelOf[d] !== -1 ? 1 : 0).toBe(flags[d * 10]);
      // And compareImage with every detection displayed counts them.
      const conf = Array.from({ length: nd }, (_, i) => 1 - i / (nd + 1));
      const c = compareImage({ boxes: db, conf, cls: dc }, { boxes: lb, cls: lc }, { conf: 0.001 });
      expect(c.tp).toBe(Array.from({ length: nd }, (_, d) => flags[d * 10]!).reduce((a, b) => a + b, 0));
      expect(c.tp + c.fn).toBe(nl);
      // A displayed prefix keeps val's flags of that prefix (later detections never change them).
      const k = Math.floor(rand() * (nd + 1));
      const cut = nd === 0 ? 1 : conf[Math.min(k, nd - 1)]!;
      const p = compareImage({ boxes: db, conf, cls: dc }, { boxes: lb, cls: lc }, { conf: cut });
      for (let d = 0; d < p.shown; d++) expect(p.correct[d]).toBe(flags[d * 10]);
    }
    expect(MATCH_IOU).toBe(Math.fround(0.5));
  });
});

const img = (name: string, score: number, fp: number, fn: number): PredictionImage => ({
  path: `/data/images/${name}`,
  name,
  labelFile: `/data/labels/${name}.txt`,
  width: 10,
  height: 10,
  labels: [],
  predictions: [],
  tp: 0,
  fp,
  fn,
  disagreements: [],
  score,
});

describe('order and CSV', () => {
  it('orders disagreements first, then by FP + FN, then by name', () => {
    const order = disagreementOrder([
      img('b.jpg', 0, 1, 0),
      img('a.jpg', 0, 1, 0),
      img('c.jpg', 2.5, 0, 3),
      img('d.jpg', 0, 3, 3),
      img('e.jpg', 0.9, 1, 0),
    ]);
    expect(order.map((i) => i.name)).toEqual(['c.jpg', 'e.jpg', 'd.jpg', 'a.jpg', 'b.jpg']);
  });

  it('writes the columns, one row per image, with RFC 4180 quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    const withD: PredictionImage = {
      ...img('x, "odd".jpg', 2.5, 1, 2),
      tp: 3,
      disagreements: [
        { kind: 'missed', cls: 2, line: 3, box: { x: 0, y: 0, w: 1, h: 1 } },
        { kind: 'unlabelled', cls: 0, conf: 0.8, box: { x: 0, y: 0, w: 1, h: 1 } },
        { kind: 'confusion', cls: 1, predCls: 0, conf: 0.7, line: 2, box: { x: 0, y: 0, w: 1, h: 1 } },
      ],
    };
    const csv = predictionsCsv({ images: [withD, img('ok.jpg', 0, 0, 0)], names: ['person', 'dog', 'cat'] });
    const lines = csv.split('\n');
    expect(lines[0]).toBe(PREDICTIONS_CSV_COLUMNS.join(','));
    expect(lines[0]).toBe('file,image,tp,fp,fn,missed,unlabelled,confusions,score,details');
    expect(lines[1]).toBe(
      '"/data/images/x, ""odd"".jpg","x, ""odd"".jpg",3,1,2,1,1,1,2.5,' +
        'missed cat (line 3); unlabelled person 0.80; labelled dog (line 2) predicted person 0.70',
    );
    expect(lines[2]).toBe('/data/images/ok.jpg,ok.jpg,0,0,0,0,0,0,0,');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
  });
});
