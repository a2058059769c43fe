/**
 * State of the runs section: the runs list (live from service events), the compare selection,
 * live progress of running runs, and the loader of one run's detail. Shared by the Runs and
 * Compare views (one instance, made by App).
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { EventMessage, Events, RunProgress } from '../../shared/contract.js';
import type { ServiceError } from '../../shared/result.js';
import {
  isFinished,
  type EpochHeadline,
  type EpochRecord,
  type ResourceSample,
  type RunDetail,
  type RunStatus,
  type RunSummary,
} from '../../shared/runs.js';
import { client, transport } from './client.js';

// ---- Sorting ---------------------------------------------------------------------------------

export type SortDir = 'asc' | 'desc';

/** Sort key and direction of a table; values that are null or NaN sort last either way. */
export class SortState<K extends string> {
  key: K = $state() as K;
  dir: SortDir = $state('asc');

  constructor(key: K, dir: SortDir = 'asc') {
    this.key = key;
    this.dir = dir;
  }

  /** Same column: flip direction; new column: start with `dir` (text ascending, numbers descending). */
  toggle(key: K, dir: SortDir = 'asc'): void {
    if (this.key === key) this.dir = this.dir === 'asc' ? 'desc' : 'asc';
    else {
      this.key = key;
      this.dir = dir;
    }
  }

  /** `aria-sort` value of a column header. */
  ariaSort(key: K): 'ascending' | 'descending' | 'none' {
    return this.key === key ? (this.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  }

  apply<T>(rows: readonly T[], value: (row: T, key: K) => string | number | null | undefined): T[] {
    const sign = this.dir === 'asc' ? 1 : -1;
    const key = this.key;
    const missing = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
    return rows
      .map((row, i) => ({ row, i, v: value(row, key) }))
      .sort((a, b) => {
        if (missing(a.v) || missing(b.v)) return missing(a.v) === missing(b.v) ? a.i - b.i : missing(a.v) ? 1 : -1;
        const c =
          typeof a.v === 'number' && typeof b.v === 'number'
            ? a.v - b.v
            : String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
        return sign * c || a.i - b.i;
      })
      .map(({ row }) => row);
  }
}

// ---- Runs list -------------------------------------------------------------------------------

/** One live loss reading; `x` is the fractional epoch (epoch + batch / batches). */
export interface BatchLoss {
  readonly x: number;
  readonly box: number;
  readonly obj: number;
  readonly cls: number;
}

const MAX_BATCH_POINTS = 3000;
const REFRESH_DELAY_MS = 300;

/** Statuses an action applies to. */
export const canCancel = (s: RunStatus): boolean => s === 'queued' || s === 'running';
export const canDelete = (s: RunStatus): boolean => isFinished(s);

type EpochEvent = Events['run.epoch'];

const headlineOf = (e: EpochRecord): EpochHeadline => ({
  epoch: e.epoch,
  precision: e.precision,
  recall: e.recall,
  map50: e.map50,
  map50_95: e.map50_95,
  fitness: e.fitness,
});

interface Best {
  readonly epoch: number;
  readonly fitness: number | null;
}

/**
 * The best epoch once `e` is recorded, as the store picks it (highest fitness, the earliest of
 * equals, only validated epochs), knowing only the best before: null when there is none yet,
 * undefined when it cannot be told (the best epoch was recorded again with a lower fitness).
 */
function bestAfter(best: Best | null, e: EpochRecord): Best | null | undefined {
  if (best && best.epoch === e.epoch) {
    return e.fitness !== null && (best.fitness === null || e.fitness >= best.fitness) ? e : undefined;
  }
  if (e.fitness === null) return best;
  if (
    !best ||
    best.fitness === null ||
    e.fitness > best.fitness ||
    (e.fitness === best.fitness && e.epoch < best.epoch)
  ) {
    return e;
  }
  return best;
}

/** A runs list row after `e` was recorded; undefined when only the service can tell (see `bestAfter`). */
export function summaryWithEpoch(summary: RunSummary, e: EpochRecord): RunSummary | undefined {
  const { run } = summary;
  const best = bestAfter(run.bestEpoch === null ? null : { epoch: run.bestEpoch, fitness: run.bestFitness }, e);
  if (best === undefined) return undefined;
  return {
    run: {
      ...run,
      lastEpochDone: Math.max(run.lastEpochDone, e.epoch),
      bestEpoch: best?.epoch ?? null,
      bestFitness: best?.fitness ?? null,
    },
    last: e.epoch >= run.lastEpochDone ? headlineOf(e) : summary.last,
    best: best === null ? null : best.epoch === e.epoch ? headlineOf(e) : summary.best,
  };
}

/**
 * A run's detail after an epoch was recorded: the epoch list, the run's last and best epoch, and the
 * class AP of the best epoch (the event carries that epoch's). Undefined when the class AP shown
 * would belong to an epoch the event does not carry (the best epoch was recorded again lower).
 */
export function detailWithEpoch(detail: RunDetail, { epoch: e, classAp }: EpochEvent): RunDetail | undefined {
  const epochs = [...detail.epochs.filter((x) => x.epoch !== e.epoch), e].sort((a, b) => a.epoch - b.epoch);
  let best: EpochRecord | undefined;
  for (const x of epochs) {
    if (x.fitness !== null && (best === undefined || best.fitness === null || x.fitness > best.fitness)) best = x;
  }
  const lastEpochDone = Math.max(detail.run.lastEpochDone, e.epoch);
  // The store's rule (queries/runs.ts): class AP of the best epoch, else of the last one.
  const before = detail.run.bestEpoch ?? (detail.run.lastEpochDone >= 0 ? detail.run.lastEpochDone : null);
  const shown = best?.epoch ?? lastEpochDone;
  if (shown !== e.epoch && shown !== before) return undefined;
  return {
    ...detail,
    run: { ...detail.run, lastEpochDone, bestEpoch: best?.epoch ?? null, bestFitness: best?.fitness ?? null },
    epochs,
    classAp: shown === e.epoch ? classAp : detail.classAp,
  };
}

export class RunsState {
  summaries = $state.raw<readonly RunSummary[]>([]);
  loaded = $state(false);
  error = $state.raw<ServiceError | undefined>();
  /** Error of the last cancel/resume/delete, shown above the list. */
  actionError = $state.raw<ServiceError | undefined>();
  /** The run shown in the detail/live panel. */
  selectedId = $state<number | undefined>();
  /** Runs ticked for comparison. */
  readonly checked = new SvelteSet<number>();
  /** Latest progress of each run that reported some. */
  readonly progress = new SvelteMap<number, RunProgress>();
  /** Live (per-batch) losses of each run, for the live chart. */
  batchLosses = $state.raw<Readonly<Record<number, readonly BatchLoss[]>>>({});

  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** List requests in flight, and the epoch events that arrived meanwhile (applied again on the answer). */
  #refreshing = 0;
  #epochsMeanwhile: EpochEvent[] = [];
  /** The last selection change was automatic (following a running run): no history entry for it. */
  #quiet = false;
  // Not reactive on purpose: event listeners, not state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #listeners = new Set<(message: EventMessage) => void>();

  readonly selected = $derived(this.summaries.find((s) => s.run.id === this.selectedId));

  /** Loads the list and follows service events; returns the disconnect function. */
  connect(): () => void {
    void this.refresh();
    const off = transport.onEvent((message) => this.#onEvent(message));
    return () => {
      off();
      if (this.#refreshTimer !== undefined) clearTimeout(this.#refreshTimer);
      this.#refreshTimer = undefined;
    };
  }

  /** Also tells `listener` about every run event (run detail views reload from these). */
  subscribe(listener: (message: EventMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async refresh(): Promise<void> {
    this.#refreshing += 1;
    const from = this.#epochsMeanwhile.length;
    const result = await client['runs.list']({ limit: 1000 });
    this.#refreshing -= 1;
    const meanwhile = this.#epochsMeanwhile.slice(from);
    if (this.#refreshing === 0) this.#epochsMeanwhile = [];
    this.loaded = true;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.error = undefined;
    this.summaries = result.value;
    // The answer may predate epochs already applied to the old list; applying one twice is harmless.
    for (const event of meanwhile) this.#applyEpoch(event);
    const ids = result.value.map((s) => s.run.id);
    for (const id of [...this.checked]) if (!ids.includes(id)) this.checked.delete(id);
    if (this.selectedId !== undefined && !ids.includes(this.selectedId)) this.selectQuietly(undefined);
  }

  /**
   * Selects a run without the user asking (following the running run, dropping a deleted one): the
   * address changes in place, so Back does not land on a page that re-selects it at once.
   */
  selectQuietly(id: number | undefined): void {
    if (this.selectedId === id) return;
    this.#quiet = true;
    this.selectedId = id;
  }

  /** Whether the last selection change was quiet; resets the flag. */
  takeQuiet(): boolean {
    const quiet = this.#quiet;
    this.#quiet = false;
    return quiet;
  }

  /** Coalesces bursts of events into one list request. */
  scheduleRefresh(): void {
    if (this.#refreshTimer !== undefined) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  #onEvent(message: EventMessage): void {
    switch (message.event) {
      case 'run.progress': {
        const p = message.payload;
        this.progress.set(p.runId, p);
        if (p.phase === 'train' && p.losses && p.batches > 0) this.#pushLoss(p);
        break;
      }
      case 'run.epoch':
        if (this.#refreshing > 0) this.#epochsMeanwhile.push(message.payload);
        this.#applyEpoch(message.payload);
        break;
      case 'run.status':
        // Kept as a refetch: a status change moves what no event carries (start and finish times,
        // the reason, runs another process queued), and the list's order and filters follow it.
        this.scheduleRefresh();
        if (isFinished(message.payload.status)) this.progress.delete(message.payload.runId);
        break;
      default:
        return;
    }
    for (const listener of this.#listeners) listener(message);
  }

  /** Updates the run's row (epochs done, last and best figures) from the event itself. */
  #applyEpoch({ runId, epoch }: EpochEvent): void {
    const row = this.summaries.find((s) => s.run.id === runId);
    const next = row && summaryWithEpoch(row, epoch);
    // A run the list does not hold yet, or a best epoch recorded again lower: only the service knows.
    if (!next) return this.scheduleRefresh();
    this.summaries = this.summaries.map((s) => (s === row ? next : s));
  }

  #pushLoss(p: RunProgress): void {
    const losses = p.losses;
    if (!losses) return;
    const x = p.epoch + (p.batch + 1) / p.batches;
    const old = this.batchLosses[p.runId] ?? [];
    const last = old[old.length - 1];
    if (last && x <= last.x) return; // repeated or out-of-order progress
    const next = [...old, { x, box: losses.box, obj: losses.obj, cls: losses.cls }];
    this.batchLosses = { ...this.batchLosses, [p.runId]: next.length > MAX_BATCH_POINTS ? thin(next) : next };
  }

  toggleChecked(id: number): void {
    if (!this.checked.delete(id)) this.checked.add(id);
  }

  /** Asks the run to stop at its next batch; false when the service refused. */
  async cancel(id: number): Promise<boolean> {
    return this.#act(client['runs.cancel']({ id }));
  }

  async resume(id: number): Promise<void> {
    await this.#act(client['runs.resume']({ id }));
  }

  async remove(id: number): Promise<void> {
    const ok = await this.#act(client['runs.delete']({ id }));
    if (ok) {
      this.checked.delete(id);
      if (this.selectedId === id) this.selectedId = undefined;
    }
  }

  async #act(call: Promise<{ ok: true } | { ok: false; error: ServiceError }>): Promise<boolean> {
    const result = await call;
    this.actionError = result.ok ? undefined : result.error;
    await this.refresh();
    return result.ok;
  }
}

/** Halves a long series (keeps every other point and the last) so live charts stay cheap. */
function thin<T>(points: readonly T[]): T[] {
  const out = points.filter((_, i) => i % 2 === 0);
  const last = points[points.length - 1];
  if (last !== undefined && out[out.length - 1] !== last) out.push(last);
  return out;
}

// ---- One run ---------------------------------------------------------------------------------

const SAMPLE_POLL_MS = 2000;

/**
 * Detail of one run (epochs, class AP, evaluation, artifacts) and its resource samples. Epoch
 * events update it in place; status events reload it; samples are polled while it runs (they
 * have no event of their own).
 */
export class RunView {
  detail = $state.raw<RunDetail | undefined>();
  samples = $state.raw<readonly ResourceSample[]>([]);
  error = $state.raw<ServiceError | undefined>();
  readonly id: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Detail requests in flight, and the epoch events that arrived meanwhile (applied on the answer). */
  #loading = 0;
  #epochsMeanwhile: EpochEvent[] = [];

  constructor(id: number) {
    this.id = id;
  }

  /** Starts loading and following the run; returns the stop function. */
  open(runs: RunsState): () => void {
    void this.reload();
    const off = runs.subscribe((message) => {
      if (message.event === 'run.epoch' && message.payload.runId === this.id) this.#applyEpoch(message.payload);
      // Kept as a refetch: a status change brings what no event carries (times, reason, the final
      // evaluation, checkpoints and notes written meanwhile).
      else if (message.event === 'run.status' && message.payload.runId === this.id) this.#scheduleReload();
    });
    return () => {
      this.#closed = true;
      off();
      clearTimeout(this.#timer);
      clearTimeout(this.#reloadTimer);
    };
  }

  #scheduleReload(): void {
    if (this.#reloadTimer !== undefined) return;
    this.#reloadTimer = setTimeout(() => {
      this.#reloadTimer = undefined;
      void this.reload();
    }, REFRESH_DELAY_MS);
  }

  #applyEpoch(event: EpochEvent): void {
    if (this.#loading > 0) this.#epochsMeanwhile.push(event);
    if (!this.detail) return;
    const next = detailWithEpoch(this.detail, event);
    if (next) this.detail = next;
    else this.#scheduleReload();
  }

  async reload(): Promise<void> {
    this.#loading += 1;
    const from = this.#epochsMeanwhile.length;
    const [detail, samples] = await Promise.all([
      client['runs.get']({ id: this.id }),
      client['runs.samples']({ id: this.id, maxPoints: 500 }),
    ]);
    this.#loading -= 1;
    const meanwhile = this.#epochsMeanwhile.slice(from);
    if (this.#loading === 0) this.#epochsMeanwhile = [];
    if (this.#closed) return;
    if (!detail.ok) {
      this.error = detail.error;
      return;
    }
    this.error = undefined;
    this.detail = detail.value;
    // The answer may predate epochs that arrived while it was on its way; applying one twice is harmless.
    for (const event of meanwhile) this.#applyEpoch(event);
    if (samples.ok) this.samples = samples.value;
    clearTimeout(this.#timer);
    if (!isFinished(detail.value.run.status)) this.#timer = setTimeout(() => void this.#pollSamples(), SAMPLE_POLL_MS);
  }

  async #pollSamples(): Promise<void> {
    const samples = await client['runs.samples']({ id: this.id, maxPoints: 500 });
    if (this.#closed) return;
    if (samples.ok) this.samples = samples.value;
    if (this.detail && !isFinished(this.detail.run.status)) {
      this.#timer = setTimeout(() => void this.#pollSamples(), SAMPLE_POLL_MS);
    }
  }
}

// ---- Formatting ------------------------------------------------------------------------------

/** A metric in [0, 1] with three decimals, '–' when absent. */
export function metric(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(3);
}

/** Local date and time, minutes precision: '2025-03-04 14:07' ('03-04 14:07' when `short`). */
export function dateTime(ms: number | null | undefined, short = false): string {
  if (ms === null || ms === undefined) return '–';
  // A throwaway value, not state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
  return short ? day : `${d.getFullYear()}-${day}`;
}

/** A duration in seconds as '42 s', '3 min 05 s', '1 h 02 min'. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
