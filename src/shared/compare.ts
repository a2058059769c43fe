/**
 * Comparing runs (pure): one comparison row per run, Pareto frontiers of accuracy against memory
 * and time, a recommendation line computed from the data, and CSV export.
 */
import { parseFreezeSpec } from './freeze.js';
import type { ComparisonRow, EpochRecord, MemoryKind, RunRecord } from './runs.js';

// ---- Rows -----------------------------------------------------------------------------------

/** Compresses sorted module indices into ranges: [0,1,2,5] -> '0-2,5'. */
export function formatModuleRanges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * A short label of what a run froze: the preset name when a preset was used, else the resolved
 * module ranges ('modules 0-4'), else the spec text (modules not resolved yet). 'none' only when
 * nothing is frozen.
 */
export function freezeLabel(freezeSpec: string, frozenModules: readonly number[]): string {
  let unfrozenSpec = false;
  try {
    const spec = parseFreezeSpec(freezeSpec);
    if (spec.kind === 'preset' && spec.preset !== 'none') {
      return spec.preset === 'all-but-detect' ? 'all but Detect' : spec.preset;
    }
    unfrozenSpec =
      (spec.kind === 'preset' && spec.preset === 'none') ||
      (spec.kind === 'first' && spec.count === 0) ||
      (spec.kind === 'list' && spec.indices.length === 0);
  } catch {
    // An unparsable stored spec still gets a label from the resolved modules.
  }
  if (frozenModules.length > 0) return `modules ${formatModuleRanges(frozenModules)}`;
  return unfrozenSpec ? 'none' : `freeze ${freezeSpec}`;
}

function maxOf(values: readonly (number | null)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (v !== null && Number.isFinite(v) && (best === null || v > best)) best = v;
  return best;
}

/**
 * The best epoch as YOLOv5 picks best.pt: highest fitness, the earliest on ties (train.py only
 * replaces best when `fi > best_fitness`).
 */
export function bestEpochOf(epochs: readonly EpochRecord[]): EpochRecord | null {
  let best: EpochRecord | null = null;
  for (const e of [...epochs].sort((a, b) => a.epoch - b.epoch)) {
    if (e.fitness === null || !Number.isFinite(e.fitness)) continue;
    if (best === null || e.fitness > best.fitness!) best = e;
  }
  return best;
}

/**
 * One comparison row from a run and its epochs. Final = the last recorded epoch; best = the
 * best-fitness epoch; peak memory = the highest GPU figure when any epoch measured one, else the
 * highest live-tensor figure; seconds per epoch = mean wall time over recorded epochs.
 */
export function comparisonRow(run: RunRecord, epochs: readonly EpochRecord[]): ComparisonRow {
  const last = epochs.reduce<EpochRecord | null>((a, e) => (a === null || e.epoch > a.epoch ? e : a), null);
  const best = bestEpochOf(epochs);
  const peakGpuMemBytes = maxOf(epochs.map((e) => e.peakGpuMemBytes));
  const peakTensorBytes = maxOf(epochs.map((e) => e.peakTensorBytes));
  const kind: MemoryKind | null = peakGpuMemBytes !== null ? 'gpu' : peakTensorBytes !== null ? 'tensor' : null;
  const seconds = epochs.map((e) => e.seconds).filter((s) => Number.isFinite(s));
  return {
    runId: run.id,
    name: run.name,
    status: run.status,
    model: run.model,
    freezeSpec: run.freezeSpec,
    freezeLabel: freezeLabel(run.freezeSpec, run.frozenModules),
    frozenModuleCount: run.frozenModules.length,
    epochsDone: epochs.length,
    finalMap50: last?.map50 ?? null,
    finalMap50_95: last?.map50_95 ?? null,
    bestMap50: best?.map50 ?? null,
    bestMap50_95: best?.map50_95 ?? null,
    // 1-based, as people count epochs (and as the run detail and the CLI print them).
    bestEpoch: best === null ? null : best.epoch + 1,
    peakMemoryBytes: kind === 'gpu' ? peakGpuMemBytes : peakTensorBytes,
    peakMemoryKind: kind,
    peakGpuMemBytes,
    peakTensorBytes,
    peakRssBytes: maxOf(epochs.map((e) => e.peakRssBytes)),
    secondsPerEpoch: seconds.length > 0 ? seconds.reduce((a, s) => a + s, 0) / seconds.length : null,
    trainableParams: run.trainableParams,
    totalParams: run.totalParams,
  };
}

/**
 * The memory figure a set of rows can be compared on: GPU when every row has it, else tensor bytes
 * when every row has those, else null (mixing the two would compare different things).
 */
export function commonMemoryKind(rows: readonly ComparisonRow[]): MemoryKind | null {
  if (rows.length === 0) return null;
  if (rows.every((r) => r.peakGpuMemBytes !== null)) return 'gpu';
  if (rows.every((r) => r.peakTensorBytes !== null)) return 'tensor';
  return null;
}

/** A row's memory figure of the given kind. */
export function memoryOf(row: ComparisonRow, kind: MemoryKind): number | null {
  return kind === 'gpu' ? row.peakGpuMemBytes : row.peakTensorBytes;
}

// ---- Pareto frontier ------------------------------------------------------------------------

/** A point to place on a frontier; `id` identifies it in the result. */
export interface ParetoPoint<Id = number> {
  readonly id: Id;
  readonly x: number;
  readonly y: number;
}

/** Which direction is better on each axis. */
export interface ParetoGoals {
  readonly x: 'min' | 'max';
  readonly y: 'min' | 'max';
}

/** One axis of a multi-objective comparison. */
export interface Objective<T> {
  readonly value: (item: T) => number;
  readonly goal: 'min' | 'max';
}

/**
 * Items not dominated by any other item on the given objectives. An item dominates another when
 * it is at least as good on every objective and strictly better on one; so exact duplicates do
 * not dominate each other and all copies stay. Items with a non-finite value are left out. Input
 * order is kept. O(n^2), fine for the tens of runs a comparison holds.
 */
export function paretoSet<T>(items: readonly T[], objectives: readonly Objective<T>[]): T[] {
  // Turn every objective into "smaller is better".
  const keyed = items
    .map((item) => ({ item, k: objectives.map((o) => (o.goal === 'min' ? 1 : -1) * o.value(item)) }))
    .filter(({ k }) => k.every((v) => Number.isFinite(v)));
  const dominates = (a: number[], b: number[]): boolean => a.every((v, i) => v <= b[i]!) && a.some((v, i) => v < b[i]!);
  return keyed.filter((p) => !keyed.some((q) => q !== p && dominates(q.k, p.k))).map(({ item }) => item);
}

/**
 * The 2-D frontier, e.g. accuracy (y, max) against memory or time (x, min): the points of
 * {@link paretoSet}. Of points sharing an x only those with the best y stay; exact duplicates all
 * stay; points with a non-finite coordinate are left out. Ordered from best x to worst x (ties in
 * input order), ready to draw as a line.
 */
export function paretoFrontier<P extends ParetoPoint<unknown>>(points: readonly P[], goals: ParetoGoals): P[] {
  const front = paretoSet(points, [
    { value: (p: P) => p.x, goal: goals.x },
    { value: (p: P) => p.y, goal: goals.y },
  ]);
  const sx = goals.x === 'min' ? 1 : -1;
  return front
    .map((p, i) => ({ p, i }))
    .sort((a, b) => sx * (a.p.x - b.p.x) || a.i - b.i)
    .map(({ p }) => p);
}

// ---- Recommendation -------------------------------------------------------------------------

/** The outcome of {@link recommend}. */
export interface Recommendation {
  /** The recommended run, or null when no run beats the baseline (see `line`). */
  readonly runId: number | null;
  readonly baselineId: number | null;
  /** One sentence for the user, computed from the data. */
  readonly line: string;
  /** Change in best mAP50-95 against the baseline (negative = lost accuracy). */
  readonly deltaMap50_95: number | null;
  /** Relative changes against the baseline, e.g. -0.35 = 35% less. */
  readonly memoryChange: number | null;
  readonly timeChange: number | null;
  readonly memoryKind: MemoryKind | null;
  /** Trade-off score of the recommended run (0 = as good as the baseline). */
  readonly score: number | null;
}

const pct = (f: number): string => `${f > 0 ? '+' : f < 0 ? '-' : '±'}${Math.round(Math.abs(f) * 100)}%`;
const signed = (d: number): string => `${d > 0 ? '+' : d < 0 ? '-' : '±'}${Math.abs(d).toFixed(3)}`;

/** The run the others are measured against: the given one, else the best completed unfrozen run. */
function pickBaseline(rows: readonly ComparisonRow[], baselineId?: number): ComparisonRow | null {
  if (baselineId !== undefined) return rows.find((r) => r.runId === baselineId) ?? null;
  const unfrozen = rows.filter((r) => r.freezeLabel === 'none' && r.status === 'completed' && r.bestMap50_95 !== null);
  unfrozen.sort((a, b) => b.bestMap50_95! - a.bestMap50_95! || a.runId - b.runId);
  return unfrozen[0] ?? null;
}

const none = (line: string, baselineId: number | null = null): Recommendation => ({
  runId: null,
  baselineId,
  line,
  deltaMap50_95: null,
  memoryChange: null,
  timeChange: null,
  memoryKind: null,
  score: null,
});

/**
 * Recommends the run with the best trade-off against a baseline (`baselineId`, else the best
 * completed run with nothing frozen).
 *
 * Memory is GPU memory when the baseline and every completed run measured it, else live tensor
 * bytes. Candidates are completed runs with best mAP50-95, seconds per epoch and that memory
 * figure, that lie on the Pareto frontier of best mAP50-95 (max), memory (min) and seconds per
 * epoch (min) taken together, baseline included among the points. That frontier holds the runs of
 * the accuracy-vs-memory and accuracy-vs-time frontiers (bar exact ties beaten on the third axis)
 * and also a run that is second-best on both resources. Each candidate's trade-off score is
 *
 *   score = (memorySaving + timeSaving) / 2 + deltaMap50_95 / baselineMap50_95
 *
 * with savings as fractions of the baseline (0.35 = 35% less) and the accuracy change relative to
 * the baseline's mAP50-95: one percent of accuracy weighs as much as one percent of resources.
 * The highest score wins (ties: higher mAP50-95, then lower run id); the baseline scores 0, so a
 * run is only recommended when its score is positive.
 */
export function recommend(rows: readonly ComparisonRow[], baselineId?: number): Recommendation {
  const base = pickBaseline(rows, baselineId);
  if (base === null) {
    return none(
      baselineId !== undefined
        ? `Run ${baselineId} is not among the compared runs.`
        : 'No completed run with nothing frozen to compare against: train one with freeze "none" as the baseline.',
    );
  }
  if (base.bestMap50_95 === null || base.bestMap50_95 <= 0 || base.secondsPerEpoch === null) {
    return none(`The baseline run ${base.runId} has no validated epochs to compare against.`, base.runId);
  }
  const complete = rows.filter(
    (r) => r.runId !== base.runId && r.status === 'completed' && r.bestMap50_95 !== null && r.secondsPerEpoch !== null,
  );
  // GPU memory when the baseline and every candidate have it; else tensor bytes, skipping runs without.
  const kind: MemoryKind = commonMemoryKind([base, ...complete]) === 'gpu' ? 'gpu' : 'tensor';
  const baseMem = memoryOf(base, kind);
  if (baseMem === null || baseMem <= 0) {
    return none(`The baseline run ${base.runId} has no memory figure to compare against.`, base.runId);
  }
  const others = complete.filter((r) => memoryOf(r, kind) !== null);
  const acc = (r: ComparisonRow) => r.bestMap50_95!;
  // One frontier over accuracy, memory and time together (see the doc comment for why not two).
  const front = new Set(
    paretoSet(
      [base, ...others],
      [
        { value: acc, goal: 'max' },
        { value: (r) => memoryOf(r, kind)!, goal: 'min' },
        { value: (r) => r.secondsPerEpoch!, goal: 'min' },
      ],
    ),
  );
  const scored = others
    .filter((r) => front.has(r))
    .map((r) => {
      const memoryChange = memoryOf(r, kind)! / baseMem - 1;
      const timeChange = r.secondsPerEpoch! / base.secondsPerEpoch! - 1;
      const delta = acc(r) - base.bestMap50_95!;
      const score = -(memoryChange + timeChange) / 2 + delta / base.bestMap50_95!;
      return { r, memoryChange, timeChange, delta, score };
    })
    .sort((a, b) => b.score - a.score || acc(b.r) - acc(a.r) || a.r.runId - b.r.runId);
  const top = scored[0];
  const vs = `(vs run ${base.runId} '${base.name}', ${kind === 'gpu' ? 'GPU memory' : 'tensor memory'})`;
  if (top === undefined || top.score <= 0) {
    return none(`No frozen run beats training everything ${vs}: keep run ${base.runId}.`, base.runId);
  }
  const what = top.r.freezeLabel === 'none' ? 'nothing frozen' : `${top.r.freezeLabel} frozen`;
  return {
    runId: top.r.runId,
    baselineId: base.runId,
    line:
      `${what}: ${signed(top.delta)} mAP50-95 for ${pct(top.memoryChange)} memory and ` +
      `${pct(top.timeChange)} time per epoch ${vs}`,
    deltaMap50_95: top.delta,
    memoryChange: top.memoryChange,
    timeChange: top.timeChange,
    memoryKind: kind,
    score: top.score,
  };
}

// ---- CSV ------------------------------------------------------------------------------------

const CSV_COLUMNS: readonly (keyof ComparisonRow)[] = [
  'runId',
  'name',
  'status',
  'model',
  'freezeSpec',
  'freezeLabel',
  'frozenModuleCount',
  'epochsDone',
  'finalMap50',
  'finalMap50_95',
  'bestMap50',
  'bestMap50_95',
  'bestEpoch',
  'peakMemoryBytes',
  'peakMemoryKind',
  'peakGpuMemBytes',
  'peakTensorBytes',
  'peakRssBytes',
  'secondsPerEpoch',
  'trainableParams',
  'totalParams',
];

/** One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Comparison rows as RFC 4180 CSV: a header line, CRLF line ends, nulls as empty fields. */
export function comparisonCsv(rows: readonly ComparisonRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
