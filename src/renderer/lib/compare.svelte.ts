/**
 * State of the Compare section: the comparison of the chosen runs (`runs.compare`: sets, groups of
 * repeats, frontiers and recommendations, all computed by the service for the chosen metric,
 * tolerance and saving), and each run's epochs and resource samples for the per-run charts.
 */
import type { ComparisonResult } from '../../shared/contract.js';
import {
  accuracyInterval,
  accuracyMean,
  DEFAULT_RECOMMEND_OPTIONS,
  type AccuracyMetric,
  type ComparisonSet,
  type RunGroup,
  type SaveGoal,
} from '../../shared/compare.js';
import type { ServiceError } from '../../shared/result.js';
import type { EpochRecord, MemoryKind, ResourceSample } from '../../shared/runs.js';
import { client } from './client.js';

export type { AccuracyMetric, SaveGoal };

/** A plotted group: mean accuracy (y) against the mean of a resource (x), with 95% intervals. */
export interface ComparePoint {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly xErr: readonly [number, number] | null;
  readonly yErr: readonly [number, number] | null;
  readonly group: RunGroup;
}

export type Resource = 'memory' | 'time';

/** The groups of a set that have both figures, as points. */
export function pointsOf(groups: readonly RunGroup[], resource: Resource, metric: AccuracyMetric): ComparePoint[] {
  return groups.flatMap((g) => {
    const x = resource === 'memory' ? g.mean.memoryBytes : g.mean.secondsPerEpoch;
    const y = accuracyMean(g, metric);
    if (x === null || y === null) return [];
    const xErr = resource === 'memory' ? g.ci95.memoryBytes : g.ci95.secondsPerEpoch;
    return [{ id: g.id, x, y, xErr, yErr: accuracyInterval(g, metric), group: g }];
  });
}

/** How a set's memory figure is named on axes and in tables. */
export function memoryTitle(kind: MemoryKind | null): string {
  return kind === 'gpu' ? 'peak GPU memory' : 'peak in-step tensor memory';
}

export class CompareState {
  result = $state.raw<ComparisonResult | undefined>();
  error = $state.raw<ServiceError | undefined>();
  loading = $state(false);
  metric = $state<AccuracyMetric>(DEFAULT_RECOMMEND_OPTIONS.metric);
  /** Accuracy the user accepts to lose against the best group (absolute, in the metric). */
  tolerance = $state(DEFAULT_RECOMMEND_OPTIONS.tolerance);
  save = $state<SaveGoal>(DEFAULT_RECOMMEND_OPTIONS.save);
  epochs = $state.raw<Readonly<Record<number, readonly EpochRecord[]>>>({});
  samples = $state.raw<Readonly<Record<number, readonly ResourceSample[]>>>({});
  #seq = 0;

  readonly rows = $derived(this.result?.rows ?? []);
  readonly sets = $derived(this.result?.sets ?? []);
  readonly groups = $derived(this.result?.groups ?? []);
  /** A tolerance the service accepts; while the field holds something else the last one stays. */
  readonly toleranceValid = $derived(Number.isFinite(this.tolerance) && this.tolerance >= 0 && this.tolerance <= 1);

  groupsOf(set: ComparisonSet): RunGroup[] {
    return this.groups.filter((g) => g.setId === set.id);
  }

  async load(ids: readonly number[]): Promise<void> {
    const seq = ++this.#seq;
    if (ids.length === 0) {
      this.result = undefined;
      this.error = undefined;
      this.epochs = {};
      this.samples = {};
      return;
    }
    this.loading = true;
    const options = {
      metric: this.metric,
      save: this.save,
      ...(this.toleranceValid ? { tolerance: this.tolerance } : {}),
    };
    const [compared, details, samples] = await Promise.all([
      client['runs.compare']({ ids: [...ids], ...options }),
      Promise.all(ids.map((id) => client['runs.get']({ id }))),
      Promise.all(ids.map((id) => client['runs.samples']({ id, maxPoints: 300 }))),
    ]);
    if (seq !== this.#seq) return; // a newer selection replaced this one
    this.loading = false;
    if (!compared.ok) {
      this.error = compared.error;
      this.result = undefined;
      return;
    }
    this.error = undefined;
    this.result = compared.value;
    const epochs: Record<number, readonly EpochRecord[]> = {};
    const sampleMap: Record<number, readonly ResourceSample[]> = {};
    ids.forEach((id, i) => {
      const d = details[i];
      const s = samples[i];
      if (d?.ok) epochs[id] = d.value.epochs;
      if (s?.ok) sampleMap[id] = s.value;
    });
    this.epochs = epochs;
    this.samples = sampleMap;
  }
}

/** A run's headline memory figure, as Compare, the CLI and exports show it. */
export interface HeadlineMemory {
  readonly runId: number;
  readonly bytes: number;
  readonly kind: MemoryKind;
}

/** Short name of a headline memory figure's kind, written after the number. */
export const memoryKindText = (kind: MemoryKind): string => (kind === 'gpu' ? 'GPU' : 'in-step tensors');

/**
 * The headline memory of runs, read through `runs.compare` so every place shows the figure the
 * comparison uses (GPU where measured, else the peak in-step tensor memory); runs without a
 * recorded epoch are absent. Undefined when the service refused (e.g. a run was just deleted).
 */
export async function headlineMemories(
  runIds: readonly number[],
): Promise<ReadonlyMap<number, HeadlineMemory> | undefined> {
  const result = runIds.length === 0 ? undefined : await client['runs.compare']({ ids: [...runIds] });
  if (result && !result.ok) return undefined;
  // A snapshot: callers replace it, never mutate it, so it needs no reactivity of its own.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  return new Map(
    (result?.ok ? result.value.rows : []).flatMap((row) =>
      row.peakMemoryBytes !== null && row.peakMemoryKind !== null
        ? [[row.runId, { runId: row.runId, bytes: row.peakMemoryBytes, kind: row.peakMemoryKind }] as const]
        : [],
    ),
  );
}

/** The headline memory of one run (see {@link headlineMemories}). */
export async function headlineMemoryOf(runId: number): Promise<HeadlineMemory | undefined> {
  return (await headlineMemories([runId]))?.get(runId);
}
