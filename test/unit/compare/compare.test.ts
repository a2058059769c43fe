import { describe, expect, it } from 'vitest';
import {
  comparisonCsv,
  comparisonRow,
  csvField,
  formatModuleRanges,
  freezeLabel,
  paretoFrontier,
  paretoSet,
  recommend,
} from '../../../src/shared/compare.js';
import type { ComparisonRow, EpochRecord, RunRecord } from '../../../src/shared/runs.js';

const ids = (ps: readonly { id: unknown }[]) => ps.map((p) => p.id);

describe('paretoFrontier', () => {
  it('keeps the non-dominated points of accuracy (max) vs cost (min), ordered by cost', () => {
    const pts = [
      { id: 'D', x: 4, y: 4 },
      { id: 'A', x: 1, y: 1 },
      { id: 'C', x: 3, y: 2 }, // B is cheaper and better
      { id: 'B', x: 2, y: 3 },
      { id: 'E', x: 2, y: 2 }, // same cost as B, worse
    ];
    expect(ids(paretoFrontier(pts, { x: 'min', y: 'max' }))).toEqual(['A', 'B', 'D']);
  });

  it('ties: same x keeps only the best y; same y keeps only the best x; duplicates all stay', () => {
    expect(
      ids(
        paretoFrontier(
          [
            { id: 1, x: 2, y: 3 },
            { id: 2, x: 2, y: 5 },
          ],
          { x: 'min', y: 'max' },
        ),
      ),
    ).toEqual([2]);
    expect(
      ids(
        paretoFrontier(
          [
            { id: 1, x: 3, y: 5 },
            { id: 2, x: 1, y: 5 },
          ],
          { x: 'min', y: 'max' },
        ),
      ),
    ).toEqual([2]);
    expect(
      ids(
        paretoFrontier(
          [
            { id: 'b2', x: 2, y: 3 },
            { id: 'a', x: 1, y: 1 },
            { id: 'b1', x: 2, y: 3 },
            { id: 'c', x: 2, y: 1 },
          ],
          { x: 'min', y: 'max' },
        ),
      ),
    ).toEqual(['a', 'b2', 'b1']);
  });

  it('follows the goals given for each axis, and leaves out non-finite points', () => {
    const pts = [
      { id: 'A', x: 1, y: 1 },
      { id: 'B', x: 2, y: 3 },
      { id: 'C', x: 3, y: 2 },
      { id: 'D', x: 4, y: 4 },
      { id: 'N', x: Number.NaN, y: 100 },
      { id: 'I', x: 0, y: Number.POSITIVE_INFINITY },
    ];
    expect(ids(paretoFrontier(pts, { x: 'max', y: 'max' }))).toEqual(['D']);
    expect(ids(paretoFrontier(pts, { x: 'min', y: 'min' }))).toEqual(['A']);
    expect(ids(paretoFrontier(pts, { x: 'max', y: 'min' }))).toEqual(['D', 'C', 'A']);
    expect(paretoFrontier([], { x: 'min', y: 'max' })).toEqual([]);
  });

  it('paretoSet works on three objectives', () => {
    const items = [
      { n: 'base', acc: 0.4, mem: 1000, t: 100 },
      { n: 'lowMem', acc: 0.4, mem: 100, t: 100 },
      { n: 'fast', acc: 0.4, mem: 1000, t: 10 },
      { n: 'both', acc: 0.39, mem: 200, t: 20 }, // dominated on each 2-D pair, not in 3-D
    ];
    const front = paretoSet(items, [
      { value: (i) => i.acc, goal: 'max' },
      { value: (i) => i.mem, goal: 'min' },
      { value: (i) => i.t, goal: 'min' },
    ]);
    expect(front.map((i) => i.n)).toEqual(['lowMem', 'fast', 'both']);
  });
});

function row(over: Partial<ComparisonRow> & { runId: number }): ComparisonRow {
  return {
    name: `run ${over.runId}`,
    status: 'completed',
    model: 'yolov5n',
    freezeSpec: 'none',
    freezeLabel: 'none',
    frozenModuleCount: 0,
    epochsDone: 10,
    finalMap50: null,
    finalMap50_95: null,
    bestMap50: null,
    bestMap50_95: null,
    bestEpoch: 9,
    peakMemoryBytes: null,
    peakMemoryKind: 'tensor',
    peakGpuMemBytes: null,
    peakTensorBytes: null,
    peakRssBytes: null,
    secondsPerEpoch: null,
    trainableParams: null,
    totalParams: null,
    ...over,
  };
}

const frozen = (
  runId: number,
  label: string,
  acc: number,
  mem: number,
  sec: number,
  over: Partial<ComparisonRow> = {},
) =>
  row({
    runId,
    name: label,
    freezeSpec: label,
    freezeLabel: label,
    frozenModuleCount: 10,
    bestMap50_95: acc,
    peakTensorBytes: mem,
    secondsPerEpoch: sec,
    ...over,
  });

describe('recommend', () => {
  const base = row({ runId: 1, name: 'unfrozen', bestMap50_95: 0.4, peakTensorBytes: 1000, secondsPerEpoch: 100 });

  it('picks the frontier run with the best score and says what it costs and saves', () => {
    const rows = [
      base,
      frozen(2, 'backbone', 0.389, 650, 58), // score 0.385 - 0.0275 = 0.3575
      frozen(3, 'all but Detect', 0.25, 400, 40), // 0.6 - 0.375 = 0.225
      frozen(4, 'modules 0-4', 0.38, 700, 70), // dominated by run 2 (score would be 0.25)
    ];
    const rec = recommend(rows);
    expect(rec.runId).toBe(2);
    expect(rec.baselineId).toBe(1);
    expect(rec.line).toBe(
      "backbone frozen: -0.011 mAP50-95 for -35% memory and -42% time per epoch (vs run 1 'unfrozen', tensor memory)",
    );
    expect(rec.deltaMap50_95).toBeCloseTo(-0.011, 12);
    expect(rec.memoryChange).toBeCloseTo(-0.35, 12);
    expect(rec.timeChange).toBeCloseTo(-0.42, 12);
    expect(rec.score).toBeCloseTo(0.3575, 12);
    // Without run 2, run 4 is on the frontier and scores 0.3 - 0.05 = 0.25, above run 3's 0.225.
    const rest = recommend(rows.filter((r) => r.runId !== 2));
    expect(rest.runId).toBe(4);
    expect(rest.score).toBeCloseTo(0.25, 12);
  });

  it('can pick a run that is second-best on both resources', () => {
    const rows = [base, frozen(2, 'a', 0.4, 100, 100), frozen(3, 'b', 0.4, 1000, 10), frozen(4, 'c', 0.39, 200, 20)];
    expect(recommend(rows).runId).toBe(4); // 0.8 - 0.025 beats 0.45 and 0.45
  });

  it('reports gains with a plus sign and uses GPU memory when every run has it', () => {
    const gpuBase = { ...base, peakGpuMemBytes: 2000 };
    const better = frozen(2, 'backbone', 0.404, 650, 80, { peakGpuMemBytes: 1500 });
    const rec = recommend([gpuBase, better]);
    expect(rec.memoryKind).toBe('gpu');
    expect(rec.line).toBe(
      "backbone frozen: +0.004 mAP50-95 for -25% memory and -20% time per epoch (vs run 1 'unfrozen', GPU memory)",
    );
    // One run without a GPU figure: everything falls back to tensor bytes.
    expect(recommend([gpuBase, better, frozen(3, 'x', 0.1, 999, 99)]).memoryKind).toBe('tensor');
  });

  it('recommends nothing when no run beats the baseline, or when there is no baseline', () => {
    const worse = frozen(2, 'backbone', 0.2, 950, 95); // 0.05 - 0.5 < 0
    const none = recommend([base, worse]);
    expect(none.runId).toBeNull();
    expect(none.baselineId).toBe(1);
    expect(none.line).toMatch(/^No frozen run beats training everything .*keep run 1\.$/);
    expect(recommend([worse]).line).toMatch(/^No completed run with nothing frozen/);
    expect(recommend([base, worse], 42).line).toBe('Run 42 is not among the compared runs.');
    // An explicit baseline is used even when it is frozen.
    expect(recommend([base, worse], 2)).toMatchObject({ runId: 1, baselineId: 2 });
  });

  it('ignores runs that did not complete, and picks the best unfrozen run as baseline', () => {
    const rows = [
      base,
      row({ runId: 5, name: 'unfrozen 2', bestMap50_95: 0.41, peakTensorBytes: 1000, secondsPerEpoch: 100 }),
      frozen(6, 'backbone', 0.9, 10, 1, { status: 'failed' }),
      frozen(7, 'backbone', 0.39, 500, 50),
    ];
    expect(recommend(rows)).toMatchObject({ runId: 7, baselineId: 5 });
  });
});

const run = (over: Partial<RunRecord> = {}): RunRecord => ({
  id: 3,
  createdAt: 0,
  name: 'r',
  sweepId: null,
  status: 'completed',
  statusReason: null,
  config: {},
  datasetPath: '/d',
  datasetFingerprint: null,
  weightsPath: null,
  weightsSha256: null,
  model: 'yolov5s',
  imgSize: 640,
  batch: 16,
  epochs: 3,
  freezeSpec: 'backbone',
  frozenModules: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  bnPolicy: 'update',
  hypName: null,
  backend: null,
  trainableParams: 100,
  totalParams: 200,
  seed: 0,
  startedAt: null,
  finishedAt: null,
  pid: null,
  lastEpochDone: 2,
  bestFitness: null,
  bestEpoch: null,
  ...over,
});

const ep = (epoch: number, map50: number, map50_95: number, over: Partial<EpochRecord> = {}): EpochRecord => ({
  epoch,
  boxLoss: null,
  objLoss: null,
  clsLoss: null,
  lr: [null, null, null],
  precision: null,
  recall: null,
  map50,
  map50_95,
  fitness: 0.1 * map50 + 0.9 * map50_95,
  seconds: 10,
  imagesPerSecond: null,
  peakTensorBytes: null,
  peakRssBytes: null,
  peakGpuMemBytes: null,
  ...over,
});

describe('comparisonRow', () => {
  it('final = last epoch, best = earliest epoch of the highest fitness, peaks and mean time', () => {
    const r = comparisonRow(run(), [
      ep(2, 0.5, 0.3, { seconds: 14, peakTensorBytes: 700 }),
      ep(0, 0.4, 0.2, { seconds: 20, peakTensorBytes: 900, peakRssBytes: 5 }),
      ep(1, 0.5, 0.3, { seconds: 11, peakTensorBytes: 800, peakRssBytes: 7 }),
    ]);
    expect(r).toMatchObject({
      runId: 3,
      freezeLabel: 'backbone',
      frozenModuleCount: 10,
      epochsDone: 3,
      finalMap50: 0.5,
      finalMap50_95: 0.3,
      bestEpoch: 2, // the 0-based epoch 1, counted from 1 as people read it
      bestMap50_95: 0.3,
      peakMemoryBytes: 900,
      peakMemoryKind: 'tensor',
      peakRssBytes: 7,
      secondsPerEpoch: 15,
      trainableParams: 100,
    });
  });

  it('prefers the GPU figure when any epoch measured it; an empty run has nulls', () => {
    const r = comparisonRow(run(), [ep(0, 0.1, 0.1, { peakTensorBytes: 5, peakGpuMemBytes: 9000 }), ep(1, 0.1, 0.1)]);
    expect(r).toMatchObject({ peakMemoryBytes: 9000, peakMemoryKind: 'gpu', peakTensorBytes: 5 });
    expect(comparisonRow(run(), [])).toMatchObject({
      epochsDone: 0,
      finalMap50: null,
      bestMap50_95: null,
      bestEpoch: null,
      peakMemoryBytes: null,
      peakMemoryKind: null,
      secondsPerEpoch: null,
    });
  });

  it('labels what was frozen', () => {
    expect(freezeLabel('backbone', [0, 1])).toBe('backbone');
    expect(freezeLabel('all-but-detect', [])).toBe('all but Detect');
    expect(freezeLabel('none', [])).toBe('none');
    expect(freezeLabel('0', [])).toBe('none');
    expect(freezeLabel('0-4', [0, 1, 2, 3, 4])).toBe('modules 0-4');
    expect(freezeLabel('10', [])).toBe('freeze 10');
    expect(formatModuleRanges([9, 5, 0, 1, 2, 8, 2])).toBe('0-2,5,8-9');
  });
});

/** A strict RFC 4180 reader, to check the writer against. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const rec: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new Error('unterminated quoted field');
          if (text[i] === '"' && text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else if (text[i] === '"') {
            i++;
            break;
          } else field += text[i++];
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
          if (text[i] === '"' || text[i] === '\n') throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
          field += text[i++];
        }
      }
      rec.push(field);
      if (text[i] === ',') i++;
      else if (text.startsWith('\r\n', i)) {
        i += 2;
        break;
      } else throw new Error(`expected , or CRLF at ${i}`);
    }
    records.push(rec);
  }
  return records;
}

describe('CSV', () => {
  it('quotes per RFC 4180 and reads back to the same fields', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(-0.011)).toBe('-0.011');

    const tricky = 'coco "small", v2\r\nsecond line';
    const csv = comparisonCsv([
      row({ runId: 1, name: tricky, bestMap50_95: 0.5, secondsPerEpoch: 12.25 }),
      row({ runId: 2, name: 'plain' }),
    ]);
    expect(csv.endsWith('\r\n')).toBe(true);
    const [header, first, second] = parseCsv(csv);
    expect(header?.slice(0, 3)).toEqual(['runId', 'name', 'status']);
    const col = (name: string) => header!.indexOf(name);
    expect(first?.[col('name')]).toBe(tricky);
    expect(first?.[col('bestMap50_95')]).toBe('0.5');
    expect(first?.[col('secondsPerEpoch')]).toBe('12.25');
    expect(second?.[col('bestMap50_95')]).toBe('');
    expect(first).toHaveLength(header!.length);
  });
});
