/**
 * State of the Compare section: the comparison of the chosen runs (`runs.compare`), each run's
 * epochs and resource samples for the per-run charts, and the points and Pareto frontiers the
 * scatter charts draw (computed here with the shared `paretoFrontier`, so the plotted frontier is
 * exactly the plotted points' frontier whichever accuracy metric is shown).
 */
import type { ComparisonResult } from '../../shared/contract.js';
import { commonMemoryKind, paretoFrontier, type ParetoPoint } from '../../shared/compare.js';
import type { ServiceError } from '../../shared/result.js';
import type { ComparisonRow, EpochRecord, MemoryKind, ResourceSample } from '../../shared/runs.js';
import { client } from './client.js';

export type AccuracyMetric = 'map50_95' | 'map50';

/** A plotted run: accuracy (y) against a resource (x). */
export interface ComparePoint extends ParetoPoint<number> {
  readonly row: ComparisonRow;
}

/** Best-epoch accuracy of a row in the chosen metric. */
export function accuracyOf(row: ComparisonRow, metric: AccuracyMetric): number | null {
  return metric === 'map50' ? row.bestMap50 : row.bestMap50_95;
}

/**
 * The memory figure of each row and how to name it: GPU memory when every row measured it, tensor
 * memory when every row has that, else each row's own figure (GPU where measured) labelled as mixed.
 */
export function memoryAxis(rows: readonly ComparisonRow[]): {
  kind: MemoryKind | 'mixed' | null;
  title: string;
  value: (row: ComparisonRow) => number | null;
} {
  const common = commonMemoryKind(rows);
  if (common === 'gpu') return { kind: 'gpu', title: 'peak GPU memory (MB)', value: (r) => r.peakGpuMemBytes };
  if (common === 'tensor') {
    return { kind: 'tensor', title: 'peak tensor memory (MB)', value: (r) => r.peakTensorBytes };
  }
  if (rows.some((r) => r.peakMemoryBytes !== null)) {
    return {
      kind: 'mixed',
      title: 'peak memory (MB; GPU where measured, else tensors)',
      value: (r) => r.peakMemoryBytes,
    };
  }
  return { kind: null, title: 'peak memory (MB)', value: () => null };
}

/** Points with both coordinates, and their frontier (accuracy max, resource min). */
export function frontierOf(
  rows: readonly ComparisonRow[],
  x: (row: ComparisonRow) => number | null,
  y: (row: ComparisonRow) => number | null,
): { points: ComparePoint[]; frontier: ComparePoint[] } {
  const points: ComparePoint[] = [];
  for (const row of rows) {
    const xv = x(row);
    const yv = y(row);
    if (xv !== null && yv !== null && Number.isFinite(xv) && Number.isFinite(yv)) {
      points.push({ id: row.runId, x: xv, y: yv, row });
    }
  }
  return { points, frontier: paretoFrontier(points, { x: 'min', y: 'max' }) };
}

export class CompareState {
  result = $state.raw<ComparisonResult | undefined>();
  error = $state.raw<ServiceError | undefined>();
  loading = $state(false);
  metric = $state<AccuracyMetric>('map50_95');
  /** Baseline run for the recommendation; undefined = the service picks one. */
  baselineId = $state<number | undefined>();
  epochs = $state.raw<Readonly<Record<number, readonly EpochRecord[]>>>({});
  samples = $state.raw<Readonly<Record<number, readonly ResourceSample[]>>>({});
  #seq = 0;

  readonly rows = $derived(this.result?.rows ?? []);
  readonly memory = $derived(memoryAxis(this.rows));
  readonly memoryPlot = $derived(frontierOf(this.rows, this.memory.value, (r) => accuracyOf(r, this.metric)));
  readonly timePlot = $derived(
    frontierOf(
      this.rows,
      (r) => r.secondsPerEpoch,
      (r) => accuracyOf(r, this.metric),
    ),
  );

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
    const baselineId = this.baselineId !== undefined && ids.includes(this.baselineId) ? this.baselineId : undefined;
    const [compared, details, samples] = await Promise.all([
      client['runs.compare']({ ids: [...ids], ...(baselineId !== undefined ? { baselineId } : {}) }),
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
