/**
 * The service's background jobs (pre-labelling, predictions against labels), any kind: the list
 * from `jobs.list`, kept live by `job.progress` events (each carries the job's whole state, so
 * no event refetches), and cancel. One instance per view that shows jobs; `connect` in an effect.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { JobKind, JobProgress } from '../../shared/commands/jobs.js';
import type { ServiceError } from '../../shared/result.js';
import { client, transport } from './client.js';

/** Whether a job has ended (completed, failed or cancelled). */
export const jobEnded = (job: Pick<JobProgress, 'status'>): boolean => job.status !== 'running';

/** Done of total as a fraction 0..1 (0 while the total is unknown). */
export const jobFraction = (job: Pick<JobProgress, 'done' | 'total'>): number =>
  job.total > 0 ? Math.min(1, job.done / job.total) : 0;

export class JobsState {
  /** Jobs by id, as last reported. */
  readonly byId = new SvelteMap<number, JobProgress>();
  error = $state.raw<ServiceError | undefined>();
  /** Error of the last cancel. */
  actionError = $state.raw<ServiceError | undefined>();
  readonly #kind: JobKind | undefined;

  /** `kind`: only jobs of that kind are kept (all kinds when absent). */
  constructor(kind?: JobKind) {
    this.#kind = kind;
  }

  /** The jobs kept, newest first. */
  readonly list = $derived([...this.byId.values()].sort((a, b) => b.jobId - a.jobId));

  /** Loads the list and follows `job.progress`; returns the disconnect function. */
  connect(): () => void {
    const off = transport.onEvent((message) => {
      if (message.event === 'job.progress') this.apply(message.payload);
    });
    void this.refresh();
    return off;
  }

  async refresh(): Promise<void> {
    const r = await client['jobs.list']({});
    if (!r.ok) {
      this.error = r.error;
      return;
    }
    this.error = undefined;
    for (const job of r.value) this.apply(job);
  }

  /** Keeps a job's state (from an event or a command's answer); an older state never replaces a newer one. */
  apply(job: JobProgress): void {
    if (this.#kind && job.kind !== this.#kind) return;
    const known = this.byId.get(job.jobId);
    if (known && jobEnded(known) && !jobEnded(job)) return;
    if (known && !jobEnded(job) && job.done < known.done) return;
    this.byId.set(job.jobId, job);
  }

  get(id: number | undefined): JobProgress | undefined {
    return id === undefined ? undefined : this.byId.get(id);
  }

  async cancel(id: number): Promise<void> {
    const r = await client['jobs.cancel']({ id });
    if (!r.ok) this.actionError = r.error;
    else {
      this.actionError = undefined;
      this.apply(r.value);
    }
  }
}
