import { describe, expect, it } from 'vitest';
import {
  compareGroups,
  comparisonCsv,
  comparisonRow,
  configOf,
  csvField,
  differingFields,
  formatModuleRanges,
  freezeLabel,
  groupsCsv,
  paretoFrontier,
  paretoSet,
  recommendationRule,
  statsOf,
  tQuantile975,
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
    seed: 0,
    datasetPath: '/data/demo/data.yaml',
    datasetFingerprint: 'd'.repeat(64),
    weightsPath: '/w/demo.safetensors',
    weightsSha256: 'w'.repeat(64),
    imgSize: 320,
    batch: 16,
    epochs: 10,
    hypName: 'scratch-low',
    hypSha256: null,
    backend: null,
    bnPolicy: 'update',
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

describe('statsOf', () => {
  it('mean, sample sd, range and the Student-t 95% interval of the finite values', () => {
    const s = statsOf([0.4, null, 0.44, 0.42, Number.NaN])!;
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.42, 12);
    expect(s.sd).toBeCloseTo(0.02, 12);
    expect([s.min, s.max]).toEqual([0.4, 0.44]);
    const half = (4.303 * 0.02) / Math.sqrt(3);
    expect(s.ci95![0]).toBeCloseTo(0.42 - half, 12);
    expect(s.ci95![1]).toBeCloseTo(0.42 + half, 12);
  });

  it('one value has no sd and no interval; no values give null', () => {
    expect(statsOf([0.3])).toEqual({ n: 1, mean: 0.3, sd: null, min: 0.3, max: 0.3, ci95: null });
    expect(statsOf([null, Number.POSITIVE_INFINITY])).toBeNull();
  });

  it('t quantiles: the table, then the expansion (2.042 at 30, towards 1.96)', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(30)).toBe(2.042);
    expect(tQuantile975(40)).toBeCloseTo(2.021, 3);
    expect(tQuantile975(1000)).toBeCloseTo(1.962, 3);
  });
});

/** A completed run of a preset with one seed's figures. */
const seedRow = (
  runId: number,
  label: string,
  seed: number,
  acc: number,
  mem: number,
  sec: number,
  over: Partial<ComparisonRow> = {},
) => frozen(runId, label, acc, mem, sec, { seed, bestMap50: acc + 0.2, ...over });

describe('comparable sets and groups of repeats', () => {
  it('groups by config, then by freeze and BN policy; seeds of one configuration form one group', () => {
    const coco = { datasetPath: '/data/coco128.yaml', datasetFingerprint: 'c'.repeat(64) };
    const rows = [
      seedRow(1, 'none', 0, 0.4, 1000, 100),
      seedRow(2, 'backbone', 0, 0.39, 600, 60),
      seedRow(3, 'none', 0, 0.2, 3000, 300, coco),
      seedRow(4, 'none', 1, 0.42, 1000, 110),
      seedRow(5, 'backbone', 0, 0.38, 600, 60, { bnPolicy: 'freeze' }),
      seedRow(6, 'backbone', 1, 0.37, 600, 62),
      seedRow(7, 'backbone', 2, 0.9, 600, 60, { status: 'cancelled' }),
    ];
    const c = compareGroups(rows);
    expect(c.differingFields).toEqual(['dataset']);
    expect(c.sets.map((s) => s.runIds)).toEqual([[1, 2, 4, 5, 6, 7], [3]]);
    expect(c.sets.map((s) => s.label)).toEqual([`data.yaml (dddddddd)`, `coco128.yaml (cccccccc)`]);
    expect(c.groups.map((g) => [g.id, g.setId, g.label, g.runIds, g.n, g.seeds])).toEqual([
      [1, 1, 'none', [1, 4], 2, [0, 1]],
      // The cancelled run belongs to the group but not to its statistics.
      [2, 1, 'backbone', [2, 6, 7], 2, [0, 1]],
      [3, 1, 'backbone, BN frozen', [5], 1, [0]],
      [4, 2, 'none', [3], 1, [0]],
    ]);
    const none = c.groups[0]!;
    expect(none.mean.bestMap50_95).toBeCloseTo(0.41, 12);
    expect(none.sd.bestMap50_95).toBeCloseTo(Math.sqrt(0.0002), 12);
    expect(none.mean.bestMap50).toBeCloseTo(0.61, 12);
    expect(none.mean.secondsPerEpoch).toBe(105);
    expect(none.mean.memoryBytes).toBe(1000);
    expect(none.memoryKind).toBe('tensor');
    // Frontiers never cross sets: set 2's only group is not on set 1's frontier.
    expect(c.sets[0]!.memoryFrontier).not.toContain(4);
    expect(c.sets[1]!.memoryFrontier).toEqual([4]);
    expect(c.sets[0]!.maxSeeds).toBe(2);
    // Two sets: the top-level recommendation says so and points at each set's own.
    expect(c.recommendation.groupId).toBeNull();
    expect(c.recommendation.line).toMatch(/^These runs form 2 sets .*differ in dataset\)/);
    expect(c.sets.map((s) => s.recommendation.setId)).toEqual([1, 2]);
  });

  it('memory: GPU only when every run of the set measured it, else tensor bytes', () => {
    const gpu = (runId: number, g: number | null, t: number | null) =>
      seedRow(runId, `f${runId}`, 0, 0.4, 0, 10, { peakGpuMemBytes: g, peakTensorBytes: t });
    expect(compareGroups([gpu(1, 900, 100), gpu(2, 800, 90)]).groups.map((g) => g.mean.memoryBytes)).toEqual([
      900, 800,
    ]);
    const mixed = compareGroups([gpu(1, 900, 100), gpu(2, null, 90), gpu(3, null, null)]);
    expect(mixed.sets[0]!.memoryKind).toBe('tensor');
    expect(mixed.groups.map((g) => g.mean.memoryBytes)).toEqual([100, 90, null]);
  });

  it('keys: dataset hash (else path), weights hash (with the model when transferred), hyp file hash, backend', () => {
    const base = row({ runId: 1 });
    const key = (over: Partial<ComparisonRow>) => configOf({ ...base, ...over });
    expect(key({ datasetPath: '/moved/data.yaml' }).dataset.key).toBe(key({}).dataset.key);
    expect(key({ datasetFingerprint: null }).dataset.key).toBe('path:/data/demo/data.yaml');
    expect(key({ model: 'demo.safetensors' }).weights.key).toBe('w'.repeat(64));
    expect(key({ model: 'yolov5s' }).weights.key).toBe(`yolov5s|${'w'.repeat(64)}`);
    expect(key({ weightsSha256: null, weightsPath: null, model: 'yolov5n' }).weights.key).toBe('model:yolov5n');
    expect(key({ hypName: '/h/hyp.yaml', hypSha256: 'a'.repeat(64) }).hyp.key).not.toBe(
      key({ hypName: '/h/hyp.yaml', hypSha256: 'b'.repeat(64) }).hyp.key,
    );
    expect(key({ backend: 'wasm' }).backend.key).not.toBe(key({}).backend.key);
    const rows = [base, row({ runId: 2, imgSize: 640, backend: 'wasm', seed: 5, freezeSpec: 'backbone' })];
    expect(differingFields(rows)).toEqual(['imgSize', 'backend']);
  });
});

describe('the recommendation', () => {
  // One seed each: none, backbone, all but Detect.
  const single = [
    seedRow(1, 'none', 0, 0.4, 1000, 100),
    seedRow(2, 'backbone', 0, 0.395, 650, 58),
    seedRow(3, 'all but Detect', 0, 0.25, 400, 40),
  ];
  const rec = (rows: readonly ComparisonRow[], over: Partial<Parameters<typeof compareGroups>[1]> = {}) =>
    compareGroups(rows, { metric: 'map50_95', tolerance: 0.01, save: 'both', ...over }).recommendation;

  it('is the cheapest group within the tolerance of the best, and says when one seed cannot tell them apart', () => {
    const r = rec(single);
    expect(r.groupId).toBe(2);
    expect(r.bestGroupId).toBe(1);
    expect(r.delta).toBeCloseTo(-0.005, 12);
    expect(r.memoryChange).toBeCloseTo(-0.35, 12);
    expect(r.timeChange).toBeCloseTo(-0.42, 12);
    expect(r.line).toBe(
      'backbone: -0.005 mAP50-95 against none (mean 0.395, 1 seed vs 0.400, 1 seed; at most 0.010 allowed) ' +
        'for -35% tensor memory and -42% time per epoch.',
    );
    expect(r.noise).toBe('backbone, none and all but Detect cannot be told apart with 1 seed; add repeats.');
    expect(r.indistinguishable).toEqual([1, 3]);
    expect(r.rule).toBe(recommendationRule({ metric: 'map50_95', tolerance: 0.01, save: 'both' }));
  });

  it('follows the tolerance: none at 0, all but Detect at 0.2; the bound itself is within', () => {
    expect(rec(single, { tolerance: 0 }).groupId).toBe(1);
    expect(rec(single, { tolerance: 0 }).line).toMatch(/^none: the most accurate .* no other group is within 0\.000/);
    expect(rec(single, { tolerance: 0.2 }).groupId).toBe(3);
    expect(rec(single, { tolerance: 0.15 }).groupId).toBe(3); // 0.40 - 0.25 is exactly 0.15
    expect(rec(single, { tolerance: 0.149 }).groupId).toBe(2);
    expect(rec(single, { tolerance: 0.0125 }).rule).toContain('at most 0.0125 below');
  });

  it('follows what to save: memory, time, or both relative to the most accurate group', () => {
    const rows = [
      seedRow(1, 'none', 0, 0.4, 1000, 100),
      seedRow(2, 'a', 0, 0.399, 500, 90),
      seedRow(3, 'b', 0, 0.398, 900, 40),
    ];
    expect(rec(rows, { save: 'memory' }).groupId).toBe(2);
    expect(rec(rows, { save: 'time' }).groupId).toBe(3);
    expect(rec(rows, { save: 'both' }).groupId).toBe(3); // (0.9 + 0.4) / 2 < (0.5 + 0.9) / 2
    expect(rec(rows, { save: 'memory' }).line).toMatch(/for -50% tensor memory\.$/);
    expect(rec(rows, { save: 'time' }).line).toMatch(/for -60% time per epoch\.$/);
  });

  it('ties: equal cost goes to the more accurate group, then to the lower group id', () => {
    const rows = [
      seedRow(1, 'none', 0, 0.4, 1000, 100),
      seedRow(2, 'a', 0, 0.395, 500, 50),
      seedRow(3, 'b', 0, 0.398, 500, 50),
      seedRow(4, 'c', 0, 0.398, 500, 50),
    ];
    expect(rec(rows).groupId).toBe(3);
    // Equal accuracy at the top: the best is the lower id, and it is the cheaper here too.
    const tied = [seedRow(1, 'x', 0, 0.4, 100, 10), seedRow(2, 'y', 0, 0.4, 100, 10)];
    expect(rec(tied)).toMatchObject({ groupId: 1, bestGroupId: 1 });
  });

  it('with repeats: mean ± sd in the line, told apart or not by the 95% intervals', () => {
    const three = (id: number, label: string, accs: number[], mem: number, sec: number) =>
      accs.map((a, i) => seedRow(id + i, label, i, a, mem, sec));
    const apart = [
      ...three(1, 'none', [0.4, 0.41, 0.42], 1000, 100),
      ...three(4, 'backbone', [0.3, 0.31, 0.32], 600, 60),
    ];
    const r = rec(apart);
    expect(r.groupId).toBe(1);
    expect(r.line).toBe(
      'none: the most accurate (mean mAP50-95 0.410 ± 0.010, 3 seeds); no other group is within 0.010 of it.',
    );
    expect(r.noise).toBe(
      'none differs in mAP50-95 from every other group beyond noise (95% intervals do not overlap).',
    );
    expect(r.indistinguishable).toEqual([]);

    const close = [
      ...three(1, 'none', [0.4, 0.41, 0.42], 1000, 100),
      ...three(4, 'backbone', [0.395, 0.405, 0.415], 600, 60),
    ];
    const c = rec(close);
    expect(c.groupId).toBe(2);
    expect(c.noise).toBe(
      'backbone and none cannot be told apart: their 95% intervals of mAP50-95 overlap (3 seeds); add repeats to separate them.',
    );
  });

  it('the metric applies to everything: best, tolerance, line and frontier', () => {
    // By mAP50 the backbone run is best; by mAP50-95 it is none.
    const rows = [
      seedRow(1, 'none', 0, 0.4, 1000, 100, { bestMap50: 0.6 }),
      seedRow(2, 'backbone', 0, 0.3, 1200, 120, { bestMap50: 0.7 }),
    ];
    const by50 = compareGroups(rows, { metric: 'map50', tolerance: 0.01, save: 'both' });
    expect(by50.recommendation).toMatchObject({ groupId: 2, bestGroupId: 2, metric: 'map50' });
    expect(by50.recommendation.line).toContain('mean mAP50 0.700');
    expect(by50.recommendation.rule).toContain('mean best mAP50 is');
    expect(by50.sets[0]!.memoryFrontier).toEqual([1, 2]);
    const by95 = compareGroups(rows);
    expect(by95.recommendation).toMatchObject({ groupId: 1, metric: 'map50_95' });
    expect(by95.sets[0]!.memoryFrontier).toEqual([1]);
  });

  it('without the cost figure, accuracy alone decides, and the line says so', () => {
    const rows = [seedRow(1, 'none', 0, 0.4, 1000, 100), seedRow(2, 'backbone', 0, 0.395, 600, 60)].map((r) => ({
      ...r,
      peakTensorBytes: null,
    }));
    const r = rec(rows, { save: 'memory' });
    expect(r.groupId).toBe(1);
    expect(r.line).toBe(
      'none: the most accurate (mean mAP50-95 0.400, 1 seed); no memory figure was recorded, so accuracy alone decides.',
    );
    expect(rec(rows, { save: 'time' }).groupId).toBe(2);
  });

  it('nothing to recommend without a completed, validated run', () => {
    const r = rec([seedRow(1, 'none', 0, 0.4, 1000, 100, { status: 'running' })]);
    expect(r.groupId).toBeNull();
    expect(r.line).toBe('No completed run with a validated mAP50-95 to recommend from.');
    expect(r.noise).toBeNull();
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

  it('the grouped CSV: one line per group with n, mean, sd, the recommendation and its rule', () => {
    const c = compareGroups([
      seedRow(1, 'none', 0, 0.4, 1000, 100),
      seedRow(2, 'none', 1, 0.42, 1000, 100),
      seedRow(3, 'backbone, "x"', 0, 0.405, 600, 60),
    ]);
    const [header, none, backbone, ...rest] = parseCsv(groupsCsv(c));
    expect(rest).toEqual([]);
    const col = (name: string) => header!.indexOf(name);
    expect(none![col('runIds')]).toBe('1 2');
    expect(none![col('n')]).toBe('2');
    expect(Number(none![col('bestMap50_95_mean')])).toBeCloseTo(0.41, 12);
    expect(Number(none![col('bestMap50_95_sd')])).toBeCloseTo(Math.sqrt(0.0002), 12);
    expect(backbone![col('bestMap50_95_sd')]).toBe('');
    expect(backbone![col('label')]).toBe('backbone, "x"');
    expect([none![col('recommended')], backbone![col('recommended')]]).toEqual(['no', 'yes']);
    expect(backbone![col('rule')]).toBe(c.recommendation.rule);
    expect(backbone![col('dataset')]).toBe('data.yaml (dddddddd)');
    // The per-run CSV names each run's set and group.
    const [h2, ...runs] = parseCsv(comparisonCsv([row({ runId: 3 })], c));
    expect(runs[0]![h2!.indexOf('group')]).toBe('2');
  });
});
