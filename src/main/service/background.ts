/**
 * The service's background jobs (pre-labelling, predictions against labels): started by a command,
 * answered at once with the job's id, followed through `job.progress` events, cancelled through
 * `jobs.cancel`. A job's work is an async function that reports items done and checks its signal
 * between items; a cancelled job ends as `cancelled` with what it wrote kept.
 */
import type { JobKind, JobProgress } from '../../shared/commands/jobs.js';
import { FreezeLabError } from '../../shared/result.js';
import type { EventBus } from '../jobs/events.js';

/** What a job's work receives. */
export interface JobControl {
  readonly signal: AbortSignal;
  /** Items done of total, with a line of detail; events are throttled, the last one always sent. */
  progress(done: number, total: number, message?: string): void;
}

export type JobWork = (control: JobControl) => Promise<unknown>;

/** Converts a thrown error into the job's error fields (the service's own conversion, injected). */
export type ErrorConverter = (error: unknown) => { code: string; message: string; hint?: string };

const PROGRESS_INTERVAL_MS = 200;
/** Finished jobs kept for `jobs.list`. */
const KEEP_FINISHED = 50;

interface Entry {
  state: JobProgress;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

export class BackgroundJobs {
  readonly #events: EventBus;
  readonly #toError: ErrorConverter;
  readonly #jobs = new Map<number, Entry>();
  #nextId = 1;

  constructor(events: EventBus, toError: ErrorConverter) {
    this.#events = events;
    this.#toError = toError;
  }

  /** Starts `work` as a job; answers its first state at once. */
  start(kind: JobKind, title: string, work: JobWork): JobProgress {
    const jobId = this.#nextId++;
    const abort = new AbortController();
    let lastEmit = 0;
    const entry: Entry = {
      state: { jobId, kind, title, status: 'running', done: 0, total: 0, startedAt: new Date().toISOString() },
      abort,
      done: Promise.resolve(),
    };
    const update = (patch: Partial<JobProgress>, force: boolean): void => {
      entry.state = { ...entry.state, ...patch };
      const now = Date.now();
      if (force || now - lastEmit >= PROGRESS_INTERVAL_MS) {
        lastEmit = now;
        this.#events.emit('job.progress', entry.state);
      }
    };
    const control: JobControl = {
      signal: abort.signal,
      progress: (done, total, message) => {
        if (entry.state.status === 'running')
          update({ done, total, ...(message !== undefined ? { message } : {}) }, false);
      },
    };
    this.#jobs.set(jobId, entry);
    this.#prune();
    (entry as { done: Promise<void> }).done = (async () => {
      // Let the caller answer with the job's id before the first event.
      await Promise.resolve();
      try {
        // Cancelled before it began: nothing to run.
        const result = abort.signal.aborted ? undefined : await work(control);
        const status = abort.signal.aborted ? 'cancelled' : 'completed';
        update({ status, endedAt: new Date().toISOString(), ...(result !== undefined ? { result } : {}) }, true);
      } catch (error) {
        if (abort.signal.aborted) {
          update({ status: 'cancelled', endedAt: new Date().toISOString() }, true);
        } else {
          update({ status: 'failed', endedAt: new Date().toISOString(), error: this.#toError(error) }, true);
        }
      }
    })();
    this.#events.emit('job.progress', entry.state);
    return entry.state;
  }

  list(): JobProgress[] {
    return [...this.#jobs.values()].map((e) => e.state).sort((a, b) => b.jobId - a.jobId);
  }

  get(id: number): JobProgress {
    return this.#entry(id).state;
  }

  /** Asks a running job to stop at its next item; answers its state (unchanged if it had ended). */
  cancel(id: number): JobProgress {
    const entry = this.#entry(id);
    if (entry.state.status === 'running') entry.abort.abort();
    return entry.state;
  }

  /** Waits for a job to end (tests, the CLI). */
  async wait(id: number): Promise<JobProgress> {
    const entry = this.#entry(id);
    await entry.done;
    return entry.state;
  }

  /** Cancels every running job and waits for them to end. */
  async close(): Promise<void> {
    const entries = [...this.#jobs.values()];
    for (const entry of entries) if (entry.state.status === 'running') entry.abort.abort();
    await Promise.all(entries.map((e) => e.done));
  }

  #entry(id: number): Entry {
    const entry = this.#jobs.get(id);
    if (!entry)
      throw new FreezeLabError(
        'not-found',
        `No job ${id}.`,
        'Jobs are kept only while the app runs; list them with jobs.list.',
      );
    return entry;
  }

  #prune(): void {
    const finished = [...this.#jobs.values()].filter((e) => e.state.status !== 'running');
    for (const entry of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.#jobs.delete(entry.state.jobId);
  }
}
