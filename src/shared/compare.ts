/**
 * Comparing runs (pure): one comparison row per run; runs grouped into comparable sets (same data,
 * weights, image size, epochs, batch, hyp and backend) and, within a set, into groups of repeats
 * (same freeze and BN policy, different seeds) with mean, sd and 95% interval; Pareto frontiers of
 * the groups; a recommendation with a stated rule; CSV export.
 */
import { parseFreezeSpec } from './freeze.js';
import type { BnPolicy, ComparisonRow, EpochRecord, MemoryKind, RunRecord } from './runs.js';

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
    seed: run.seed,
    datasetPath: run.datasetPath,
    datasetFingerprint: run.datasetFingerprint,
    weightsPath: run.weightsPath,
    weightsSha256: run.weightsSha256,
    imgSize: run.imgSize,
    batch: run.batch,
    epochs: run.epochs,
    hypName: run.hypName,
    hypSha256: null,
    backend: run.backend,
    bnPolicy: run.bnPolicy,
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

// ---- Comparable sets ------------------------------------------------------------------------

/**
 * What must match for runs to be compared. Freeze and BN policy are what a comparison compares,
 * and the seed is what repeats vary; everything here changes results beyond seed noise (batch
 * too: memory grows with it). The worker count is left out: it splits the same batch.
 */
export const CONFIG_FIELDS = ['dataset', 'weights', 'imgSize', 'epochs', 'batch', 'hyp', 'backend'] as const;
export type ConfigField = (typeof CONFIG_FIELDS)[number];

export const CONFIG_FIELD_LABELS: { readonly [F in ConfigField]: string } = {
  dataset: 'dataset',
  weights: 'weights or model',
  imgSize: 'image size',
  epochs: 'epochs',
  batch: 'batch',
  hyp: 'hyperparameters',
  backend: 'backend',
};

/** One config field of a run: `key` decides comparability, `text` is what people read. */
export interface ConfigValue {
  readonly key: string;
  readonly text: string;
}

const baseName = (p: string): string => p.split(/[\\/]/).filter(Boolean).pop() ?? p;
const short = (hash: string): string => hash.slice(0, 8);

/** A run's value of each comparability field (hashes where there are files, so moved files still match). */
export function configOf(row: ComparisonRow): { readonly [F in ConfigField]: ConfigValue } {
  // The model label is the weights' file name unless a model was named too (a transfer to
  // another architecture): then the architecture is part of the key.
  const modelFromWeights = row.weightsPath !== null && baseName(row.weightsPath) === row.model;
  const weightsKey =
    row.weightsSha256 === null
      ? `model:${row.model}`
      : `${modelFromWeights ? '' : `${row.model}|`}${row.weightsSha256}`;
  const hypText = row.hypName === null ? 'default' : row.hypSha256 ? baseName(row.hypName) : row.hypName;
  return {
    dataset: {
      key: row.datasetFingerprint ?? `path:${row.datasetPath}`,
      text: `${baseName(row.datasetPath)}${row.datasetFingerprint ? ` (${short(row.datasetFingerprint)})` : ''}`,
    },
    weights: {
      key: weightsKey,
      text:
        row.weightsSha256 === null
          ? `${row.model} (no weights)`
          : `${row.model} (${modelFromWeights ? '' : 'weights '}sha256 ${short(row.weightsSha256)})`,
    },
    imgSize: { key: String(row.imgSize), text: `${row.imgSize} px` },
    epochs: { key: String(row.epochs), text: `${row.epochs} epochs` },
    batch: { key: String(row.batch), text: `batch ${row.batch}` },
    hyp: {
      key: row.hypSha256 ?? `name:${row.hypName ?? ''}`,
      text: row.hypSha256 ? `${hypText} (sha256 ${short(row.hypSha256)})` : hypText,
    },
    backend: { key: row.backend ?? 'auto', text: row.backend ?? 'auto backend' },
  };
}

/** The config fields whose values differ among the rows. */
export function differingFields(rows: readonly ComparisonRow[]): ConfigField[] {
  const configs = rows.map(configOf);
  return CONFIG_FIELDS.filter((f) => new Set(configs.map((c) => c[f].key)).size > 1);
}

// ---- Statistics -----------------------------------------------------------------------------

/** Summary of one figure over the seeds of a group. */
export interface Stats {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n - 1); null with one value. */
  readonly sd: number | null;
  readonly min: number;
  readonly max: number;
  /** 95% confidence interval of the mean (Student t); null with one value. */
  readonly ci95: readonly [number, number] | null;
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The t quantile for a 95% interval; past 30 degrees of freedom, the Cornish-Fisher expansion (3 decimals). */
export function tQuantile975(df: number): number {
  if (df < 1) return Number.NaN;
  if (df <= T975.length) return T975[df - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean, sd, range and 95% interval of the finite values; null when there are none. */
export function statsOf(values: readonly (number | null)[]): Stats | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, v) => a + v, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = sd === null ? null : (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return {
    n,
    mean,
    sd,
    min: Math.min(...xs),
    max: Math.max(...xs),
    ci95: half === null ? null : [mean - half, mean + half],
  };
}

// ---- Groups of repeats ----------------------------------------------------------------------

/** The figures a group summarises over its seeds. */
export const GROUP_METRICS = [
  'bestMap50',
  'bestMap50_95',
  'finalMap50',
  'finalMap50_95',
  'memoryBytes',
  'secondsPerEpoch',
  'rssBytes',
] as const;
export type GroupMetric = (typeof GROUP_METRICS)[number];
type PerMetric<T> = { readonly [M in GroupMetric]: T };

/** Runs of one configuration that differ only in their seed. */
export interface RunGroup {
  /** 1-based, in the order of the comparison. */
  readonly id: number;
  readonly setId: number;
  /** What was frozen, as points and rows are labelled ('backbone', 'none, BN frozen'). */
  readonly label: string;
  readonly freezeSpec: string;
  readonly freezeLabel: string;
  readonly bnPolicy: BnPolicy;
  /** Every compared run of this configuration. */
  readonly runIds: readonly number[];
  /** The completed runs the statistics are over, and their seeds. */
  readonly statsRunIds: readonly number[];
  readonly seeds: readonly number[];
  /** How many runs the statistics are over (completed runs). */
  readonly n: number;
  /** Memory figure of `memoryBytes`: the set's common kind (GPU when every run measured it). */
  readonly memoryKind: MemoryKind | null;
  readonly mean: PerMetric<number | null>;
  readonly sd: PerMetric<number | null>;
  readonly min: PerMetric<number | null>;
  readonly max: PerMetric<number | null>;
  readonly ci95: PerMetric<readonly [number, number] | null>;
  readonly trainableParams: number | null;
}

/** Runs that can be compared with each other: every config field matches. */
export interface ComparisonSet {
  readonly id: number;
  /** The shared config, one text per field. */
  readonly config: { readonly [F in ConfigField]: string };
  /** One line naming the set: the fields that tell it from the other sets, else all of them. */
  readonly label: string;
  readonly groupIds: readonly number[];
  readonly runIds: readonly number[];
  readonly memoryKind: MemoryKind | null;
  /** The most seeds any group has (1: no group was repeated). */
  readonly maxSeeds: number;
  /** Group ids on the accuracy (mean, chosen metric) vs mean memory frontier, least memory first. */
  readonly memoryFrontier: readonly number[];
  /** The same against mean seconds per epoch, fastest first. */
  readonly timeFrontier: readonly number[];
  readonly recommendation: Recommendation;
}

const groupLabel = (freezeLabel: string, bn: BnPolicy): string =>
  bn === 'freeze' ? `${freezeLabel}, BN frozen` : freezeLabel;

/** 'mean ± sd' of a group's figure ('mean' with one seed, '± 0' when the seeds agree), or '–'. */
export function meanSdText(group: RunGroup, metric: GroupMetric, show: (v: number) => string): string {
  const mean = group.mean[metric];
  const sd = group.sd[metric];
  if (mean === null) return '–';
  return sd === null ? show(mean) : `${show(mean)} ± ${sd === 0 ? '0' : show(sd)}`;
}

/** A group's mean of the chosen accuracy metric. */
export function accuracyMean(group: RunGroup, metric: AccuracyMetric): number | null {
  return group.mean[metric === 'map50' ? 'bestMap50' : 'bestMap50_95'];
}

export function accuracyInterval(group: RunGroup, metric: AccuracyMetric): readonly [number, number] | null {
  return group.ci95[metric === 'map50' ? 'bestMap50' : 'bestMap50_95'];
}

function summarise(id: number, setId: number, rows: readonly ComparisonRow[], kind: MemoryKind | null): RunGroup {
  const done = rows.filter((r) => r.status === 'completed');
  const figure: PerMetric<(r: ComparisonRow) => number | null> = {
    bestMap50: (r) => r.bestMap50,
    bestMap50_95: (r) => r.bestMap50_95,
    finalMap50: (r) => r.finalMap50,
    finalMap50_95: (r) => r.finalMap50_95,
    memoryBytes: (r) => (kind === null ? null : memoryOf(r, kind)),
    secondsPerEpoch: (r) => r.secondsPerEpoch,
    rssBytes: (r) => r.peakRssBytes,
  };
  const stats = Object.fromEntries(
    GROUP_METRICS.map((m) => [m, statsOf(done.map(figure[m]))]),
  ) as PerMetric<Stats | null>;
  const pick = <T>(f: (s: Stats) => T): PerMetric<T | null> =>
    Object.fromEntries(GROUP_METRICS.map((m) => [m, stats[m] === null ? null : f(stats[m])])) as PerMetric<T | null>;
  const first = rows[0]!;
  return {
    id,
    setId,
    label: groupLabel(first.freezeLabel, first.bnPolicy),
    freezeSpec: first.freezeSpec,
    freezeLabel: first.freezeLabel,
    bnPolicy: first.bnPolicy,
    runIds: rows.map((r) => r.runId),
    statsRunIds: done.map((r) => r.runId),
    seeds: done.map((r) => r.seed),
    n: done.length,
    memoryKind: kind,
    mean: pick((s) => s.mean),
    sd: pick((s) => s.sd),
    min: pick((s) => s.min),
    max: pick((s) => s.max),
    ci95: pick((s) => s.ci95),
    trainableParams: first.trainableParams,
  };
}

/**
 * Groups rows into comparable sets (every config field equal) and, within each, into groups of
 * repeats (same freeze spec and BN policy; the seed differs). Sets and groups keep the order in
 * which their first run appears; ids count from 1 across the whole comparison.
 */
export function groupRows(rows: readonly ComparisonRow[]): { sets: ComparisonRow[][]; groups: ComparisonRow[][][] } {
  const setKey = (r: ComparisonRow) => {
    const c = configOf(r);
    return CONFIG_FIELDS.map((f) => c[f].key).join('\u0000');
  };
  const bucket = <T>(items: readonly T[], key: (t: T) => string): T[][] => {
    const m = new Map<string, T[]>();
    for (const item of items) {
      const k = key(item);
      const list = m.get(k);
      if (list) list.push(item);
      else m.set(k, [item]);
    }
    return [...m.values()];
  };
  const sets = bucket(rows, setKey);
  return { sets, groups: sets.map((s) => bucket(s, (r) => `${r.freezeSpec}\u0000${r.bnPolicy}`)) };
}

// ---- Recommendation -------------------------------------------------------------------------

export type AccuracyMetric = 'map50_95' | 'map50';
/** What the user wants to save by freezing. */
export type SaveGoal = 'memory' | 'time' | 'both';

export interface RecommendOptions {
  readonly metric: AccuracyMetric;
  /** Largest accepted drop of the mean metric below the best group's mean (absolute, e.g. 0.01). */
  readonly tolerance: number;
  readonly save: SaveGoal;
}

export const DEFAULT_RECOMMEND_OPTIONS: RecommendOptions = { metric: 'map50_95', tolerance: 0.01, save: 'both' };

export const metricName = (m: AccuracyMetric): string => (m === 'map50' ? 'mAP50' : 'mAP50-95');
/** A tolerance as mAP is written (0.010), with more decimals only when it has them (0.0125). */
export const toleranceText = (t: number): string =>
  Number(t.toFixed(3)) === t ? t.toFixed(3) : String(Number(t.toFixed(6)));
const costName = (s: SaveGoal): string =>
  s === 'memory'
    ? 'mean peak memory'
    : s === 'time'
      ? 'mean time per epoch'
      : "mean of peak memory and time per epoch, each relative to the most accurate group's";

/** The recommendation rule in words, as the UI, `compare --help` and the CSV state it. */
export function recommendationRule(o: RecommendOptions): string {
  return (
    `Recommended: of the groups whose mean best ${metricName(o.metric)} is at most ${toleranceText(o.tolerance)} ` +
    `below the best group's mean, the one with the lowest ${costName(o.save)} (ties: the more accurate). ` +
    'Two groups are told apart only when the 95% intervals of their means (Student t over seeds) do not ' +
    'overlap; a group with one seed has no interval.'
  );
}

/** The outcome of {@link recommendGroups} for one comparable set. */
export interface Recommendation {
  readonly setId: number | null;
  /** The recommended group, or null (see `line`). */
  readonly groupId: number | null;
  readonly runIds: readonly number[];
  /** The group with the highest mean metric. */
  readonly bestGroupId: number | null;
  readonly metric: AccuracyMetric;
  readonly tolerance: number;
  readonly save: SaveGoal;
  /** The rule in words ({@link recommendationRule}). */
  readonly rule: string;
  /** One sentence for the user, computed from the data. */
  readonly line: string;
  /** Whether the recommended group can be told apart from the others, in words; null when alone. */
  readonly noise: string | null;
  /** Groups whose metric cannot be told apart from the recommended group's. */
  readonly indistinguishable: readonly number[];
  /** Recommended mean minus best mean, in the metric (0 or negative). */
  readonly delta: number | null;
  /** Relative changes of the means against the best group, e.g. -0.35 = 35% less. */
  readonly memoryChange: number | null;
  readonly timeChange: number | null;
  readonly memoryKind: MemoryKind | null;
}

const pct = (f: number): string => `${f > 0 ? '+' : f < 0 ? '-' : '±'}${Math.round(Math.abs(f) * 100)}%`;
const signed = (d: number): string => `${d > 0 ? '+' : d < 0 ? '-' : '±'}${Math.abs(d).toFixed(3)}`;

/** 'a', 'a and b', 'a, b and c'. */
export function joinNames(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Whether two groups' metric intervals exist and do not overlap. */
function toldApart(a: RunGroup, b: RunGroup, metric: AccuracyMetric): boolean {
  const ia = accuracyInterval(a, metric);
  const ib = accuracyInterval(b, metric);
  return ia !== null && ib !== null && (ia[1] < ib[0] || ib[1] < ia[0]);
}

/**
 * The recommendation of one comparable set, by {@link recommendationRule}: the most accurate group
 * (highest mean metric) sets the bar; groups within `tolerance` of it whose cost figure is known
 * compete on cost. Floating-point noise (1e-9) is allowed on the tolerance so 0.400 vs 0.390 at
 * tolerance 0.010 counts as within.
 */
export function recommendGroups(
  setId: number | null,
  groups: readonly RunGroup[],
  options: RecommendOptions = DEFAULT_RECOMMEND_OPTIONS,
): Recommendation {
  const { metric, tolerance, save } = options;
  const rule = recommendationRule(options);
  const m = metricName(metric);
  const kind = groups.find((g) => g.memoryKind !== null)?.memoryKind ?? null;
  const empty = (line: string): Recommendation => ({
    setId,
    groupId: null,
    runIds: [],
    bestGroupId: null,
    metric,
    tolerance,
    save,
    rule,
    line,
    noise: null,
    indistinguishable: [],
    delta: null,
    memoryChange: null,
    timeChange: null,
    memoryKind: kind,
  });
  const measured = groups.filter((g) => g.n > 0 && accuracyMean(g, metric) !== null);
  if (measured.length === 0) return empty(`No completed run with a validated ${m} to recommend from.`);
  const acc = (g: RunGroup) => accuracyMean(g, metric)!;
  const best = [...measured].sort((a, b) => acc(b) - acc(a) || a.id - b.id)[0]!;
  const within = measured.filter((g) => acc(g) >= acc(best) - tolerance - 1e-9);
  const mem = (g: RunGroup) => g.mean.memoryBytes;
  const sec = (g: RunGroup) => g.mean.secondsPerEpoch;
  // For 'both', costs are relative to the most accurate group that has both figures.
  const ref = within.find((g) => g === best && mem(g) && sec(g)) ?? within.find((g) => mem(g) && sec(g));
  const cost = (g: RunGroup): number | null => {
    if (save === 'memory') return mem(g);
    if (save === 'time') return sec(g);
    if (ref === undefined || mem(g) === null || sec(g) === null) return null;
    return (mem(g)! / mem(ref)! + sec(g)! / sec(ref)!) / 2;
  };
  const costed = within.filter((g) => cost(g) !== null);
  const pick =
    [...costed].sort((a, b) => cost(a)! - cost(b)! || acc(b) - acc(a) || a.id - b.id)[0] ??
    // No cost figure at all: accuracy alone decides.
    best;
  const change = (f: (g: RunGroup) => number | null) => {
    const a = f(pick);
    const b = f(best);
    return a === null || b === null || b <= 0 ? null : a / b - 1;
  };
  const memoryChange = change(mem);
  const timeChange = change(sec);
  const delta = acc(pick) - acc(best);
  const fig = (g: RunGroup) => {
    const sd = g.sd[metric === 'map50' ? 'bestMap50' : 'bestMap50_95'];
    return `${acc(g).toFixed(3)}${sd === null ? '' : ` ± ${sd.toFixed(3)}`}, ${g.n} seed${g.n === 1 ? '' : 's'}`;
  };
  let line: string;
  if (pick === best && costed.length === 0 && within.length > 1) {
    line = `${pick.label}: the most accurate (mean ${m} ${fig(pick)}); no ${save === 'both' ? 'memory and time' : save} figure was recorded, so accuracy alone decides.`;
  } else if (pick === best) {
    line =
      within.length === 1
        ? `${pick.label}: the most accurate (mean ${m} ${fig(pick)}); no other group is within ${toleranceText(tolerance)} of it.`
        : `${pick.label}: the most accurate (mean ${m} ${fig(pick)}) and the cheapest of the ${within.length} groups within ${toleranceText(tolerance)}.`;
  } else {
    const saves = [
      save !== 'time' && memoryChange !== null
        ? `${pct(memoryChange)} ${kind === 'gpu' ? 'GPU' : 'tensor'} memory`
        : null,
      save !== 'memory' && timeChange !== null ? `${pct(timeChange)} time per epoch` : null,
    ].filter(Boolean);
    line =
      `${pick.label}: ${signed(delta)} ${m} against ${best.label} (mean ${fig(pick)} vs ${fig(best)}; ` +
      `at most ${toleranceText(tolerance)} allowed) for ${saves.join(' and ') || 'an unmeasured saving'}.`;
  }
  const others = measured.filter((g) => g !== pick);
  const alike = others.filter((g) => !toldApart(pick, g, metric));
  let noise: string | null = null;
  if (others.length > 0) {
    const names = joinNames([pick, ...alike].map((g) => g.label));
    const fewest = Math.min(...[pick, ...alike].map((g) => g.n));
    if (alike.length === 0) {
      noise = `${pick.label} differs in ${m} from every other group beyond noise (95% intervals do not overlap).`;
    } else if (fewest < 2) {
      noise = `${names} cannot be told apart with ${fewest} seed; add repeats.`;
    } else {
      noise = `${names} cannot be told apart: their 95% intervals of ${m} overlap (${fewest} seeds); add repeats to separate them.`;
    }
  }
  return {
    setId,
    groupId: pick.id,
    runIds: pick.runIds,
    bestGroupId: best.id,
    metric,
    tolerance,
    save,
    rule,
    line,
    noise,
    indistinguishable: alike.map((g) => g.id),
    delta,
    memoryChange,
    timeChange,
    memoryKind: kind,
  };
}

// ---- The whole comparison -------------------------------------------------------------------

export interface GroupedComparison {
  readonly sets: readonly ComparisonSet[];
  readonly groups: readonly RunGroup[];
  /** Config fields that differ among the compared runs (the reason there is more than one set). */
  readonly differingFields: readonly ConfigField[];
  /** The recommendation when there is one set; with several, one that says to read each set's. */
  readonly recommendation: Recommendation;
}

/** Groups the rows and recommends within each comparable set. Frontiers never cross sets. */
export function compareGroups(
  rows: readonly ComparisonRow[],
  options: RecommendOptions = DEFAULT_RECOMMEND_OPTIONS,
): GroupedComparison {
  const { sets: setRows, groups: groupRowsBySet } = groupRows(rows);
  const differing = differingFields(rows);
  const sets: ComparisonSet[] = [];
  const groups: RunGroup[] = [];
  setRows.forEach((members, i) => {
    const setId = i + 1;
    const done = members.filter((r) => r.status === 'completed');
    const measured = done.length > 0 ? done : members;
    // GPU only when every run measured it; else tensor bytes, where runs without them have none
    // (mixing the two would compare different things).
    const kind =
      commonMemoryKind(measured) ?? (measured.some((r) => r.peakTensorBytes !== null) ? ('tensor' as const) : null);
    const own = groupRowsBySet[i]!.map((g, j) => summarise(groups.length + j + 1, setId, g, kind));
    groups.push(...own);
    const frontier = (x: (g: RunGroup) => number | null) =>
      paretoFrontier(
        own.flatMap((g) => {
          const xv = x(g);
          const yv = accuracyMean(g, options.metric);
          return xv === null || yv === null ? [] : [{ id: g.id, x: xv, y: yv }];
        }),
        { x: 'min', y: 'max' },
      ).map((p) => p.id);
    const config = configOf(members[0]!);
    const shown = differing.length > 0 ? differing : CONFIG_FIELDS;
    sets.push({
      id: setId,
      config: Object.fromEntries(CONFIG_FIELDS.map((f) => [f, config[f].text])) as ComparisonSet['config'],
      label: shown.map((f) => config[f].text).join(' · '),
      groupIds: own.map((g) => g.id),
      runIds: members.map((r) => r.runId),
      memoryKind: kind,
      maxSeeds: Math.max(0, ...own.map((g) => g.n)),
      memoryFrontier: frontier((g) => g.mean.memoryBytes),
      timeFrontier: frontier((g) => g.mean.secondsPerEpoch),
      recommendation: recommendGroups(setId, own, options),
    });
  });
  const recommendation =
    sets.length === 1
      ? sets[0]!.recommendation
      : {
          ...recommendGroups(null, [], options),
          line:
            sets.length === 0
              ? 'Nothing to compare.'
              : `These runs form ${sets.length} sets that cannot be compared with each other (they differ in ` +
                `${joinNames(differing.map((f) => CONFIG_FIELD_LABELS[f]))}): each set has its own recommendation.`,
        };
  return { sets, groups, differingFields: differing, recommendation };
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
  'seed',
  'bnPolicy',
  'datasetPath',
  'datasetFingerprint',
  'weightsPath',
  'weightsSha256',
  'imgSize',
  'batch',
  'epochs',
  'hypName',
  'hypSha256',
  'backend',
];

/** One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLines = (lines: readonly (readonly (string | number | null | undefined)[])[]): string =>
  lines.map((l) => l.map(csvField).join(',')).join('\r\n') + '\r\n';

/**
 * Comparison rows as RFC 4180 CSV: a header line, CRLF line ends, nulls as empty fields. With
 * `grouped`, each row also names its set and group.
 */
export function comparisonCsv(rows: readonly ComparisonRow[], grouped?: GroupedComparison): string {
  const groupOf = new Map(grouped?.groups.flatMap((g) => g.runIds.map((id) => [id, g] as const)) ?? []);
  const extra = grouped ? ['set', 'group'] : [];
  return csvLines([
    [...CSV_COLUMNS, ...extra],
    ...rows.map((r) => {
      const g = groupOf.get(r.runId);
      return [...CSV_COLUMNS.map((c) => r[c] as string | number | null), ...(grouped ? [g?.setId, g?.id] : [])];
    }),
  ]);
}

/**
 * The grouped comparison as CSV, one line per group: its set's config, n, mean, sd, min, max and
 * 95% interval of every figure, whether it is recommended, and the rule that decided.
 */
export function groupsCsv(c: GroupedComparison): string {
  const header: string[] = [
    'set',
    ...CONFIG_FIELDS,
    'group',
    'label',
    'freezeSpec',
    'bnPolicy',
    'runIds',
    'seeds',
    'n',
  ];
  for (const m of GROUP_METRICS)
    header.push(`${m}_mean`, `${m}_sd`, `${m}_min`, `${m}_max`, `${m}_ci95_low`, `${m}_ci95_high`);
  header.push('memoryKind', 'recommended', 'metric', 'tolerance', 'save', 'rule');
  const setById = new Map(c.sets.map((s) => [s.id, s] as const));
  return csvLines([
    header,
    ...c.groups.map((g) => {
      const set = setById.get(g.setId)!;
      const rec = set.recommendation;
      return [
        g.setId,
        ...CONFIG_FIELDS.map((f) => set.config[f]),
        g.id,
        g.label,
        g.freezeSpec,
        g.bnPolicy,
        g.runIds.join(' '),
        g.seeds.join(' '),
        g.n,
        ...GROUP_METRICS.flatMap((m) => [g.mean[m], g.sd[m], g.min[m], g.max[m], g.ci95[m]?.[0], g.ci95[m]?.[1]]),
        g.memoryKind,
        rec.groupId === g.id ? 'yes' : 'no',
        metricName(rec.metric),
        rec.tolerance,
        rec.save,
        rec.rule,
      ];
    }),
  ]);
}
