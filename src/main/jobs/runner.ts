/**
 * The job runner: a queue of training runs (one at a time by default), each in its own worker
 * process so a crash or an out-of-memory never takes the UI down. Queued runs live in the
 * database; the runner starts them in order, forwards their progress as events, cancels them at
 * a batch boundary, and marks a run `interrupted` when its process dies without finishing it.
 */
import { isFinished, type RunStatus } from '../../shared/runs.js';
import type { EventBus } from '../service/events.js';
import { getRunRecord, markInterruptedRuns, setRunStatus, type Db } from '../store/index.js';
import type { FromWorker } from './protocol.js';
import type { WorkerHandle, WorkerSpawner } from './spawn.js';

export interface JobRunnerOptions {
  readonly db: Db;
  readonly dbPath: string;
  readonly runsDir: string;
  readonly events: EventBus;
  readonly spawn: WorkerSpawner;
  readonly workerEntry: string;
  /** Runs trained at the same time (default 1: a CPU or a GPU is best used by one run). */
  readonly concurrency?: number;
  /** Grace period after a cancel request before the worker is killed. */
  readonly cancelGraceMs?: number;
}

interface ActiveJob {
  readonly runId: number;
  readonly worker: WorkerHandle;
  cancelRequested: boolean;
  killTimer?: NodeJS.Timeout;
  readonly exited: Promise<void>;
}

export class JobRunner {
  readonly #opts: JobRunnerOptions;
  readonly #active = new Map<number, ActiveJob>();
  #closed = false;

  constructor(opts: JobRunnerOptions) {
    this.#opts = opts;
  }

  /** Start-up: runs left `running` by a crashed process become `interrupted`; queued runs start. */
  start(): number[] {
    const interrupted = markInterruptedRuns(this.#opts.db, {
      // A run whose worker is one of ours and alive is not interrupted.
      isAlive: (pid) => [...this.#active.values()].some((j) => j.worker.pid === pid),
    });
    for (const runId of interrupted) this.#emitStatus(runId);
    this.pump();
    return interrupted;
  }

  get activeRunIds(): number[] {
    return [...this.#active.keys()];
  }

  /** Starts queued runs while there is room. */
  pump(): void {
    if (this.#closed) return;
    const limit = this.#opts.concurrency ?? 1;
    while (this.#active.size < limit) {
      const next = this.#opts.db
        .prepare(`SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1 OFFSET ?`)
        .get(0) as { id: number } | undefined;
      if (!next || this.#active.has(next.id)) return;
      this.#launch(next.id);
    }
  }

  #launch(runId: number): void {
    const worker = this.#opts.spawn(this.#opts.workerEntry);
    let resolveExit: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => (resolveExit = resolve));
    const job: ActiveJob = { runId, worker, cancelRequested: false, exited };
    this.#active.set(runId, job);
    worker.onMessage((message) => this.#onMessage(message));
    worker.onExit((code, signal) => {
      clearTimeout(job.killTimer);
      this.#active.delete(runId);
      this.#onExit(job, code, signal);
      resolveExit();
      this.pump();
    });
    worker.send({ type: 'start', runId, dbPath: this.#opts.dbPath, runsDir: this.#opts.runsDir });
  }

  #onMessage(message: FromWorker): void {
    const { events } = this.#opts;
    switch (message.type) {
      case 'progress':
        events.emit('run.progress', message.progress);
        break;
      case 'epoch':
        events.emit('run.epoch', { runId: message.runId, epoch: message.epoch });
        break;
      case 'status':
        events.emit('run.status', { runId: message.runId, status: message.status, reason: message.reason });
        break;
      case 'log':
        events.emit('app.notice', { level: message.level, message: message.message });
        break;
    }
  }

  /** A worker ended: if it left its run unfinished, the run is interrupted (or cancelled, if asked). */
  #onExit(job: ActiveJob, code: number | null, signal: string | null): void {
    const run = getRunRecord(this.#opts.db, job.runId);
    if (!run || isFinished(run.status) || run.status === 'interrupted') return;
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    let to: RunStatus = 'interrupted';
    let reason = `The training process ${how} during epoch ${run.lastEpochDone + 2}; ${run.lastEpochDone >= 0 ? `epochs 1-${run.lastEpochDone + 1} are kept` : 'no epoch had finished'}. Resume it to continue from the last checkpoint.`;
    if (run.status === 'queued') {
      // It never started (e.g. the backend failed to load before claiming the run).
      to = 'failed';
      reason = `The training process ${how} before the run started.`;
    } else if (job.cancelRequested) {
      to = 'cancelled';
      reason = 'Cancelled by the user (the training process was stopped).';
    }
    setRunStatus(this.#opts.db, job.runId, to, { reason });
    this.#emitStatus(job.runId);
  }

  /** Cancels a queued run at once, or a running one at its next batch boundary. */
  cancel(runId: number): RunStatus {
    const job = this.#active.get(runId);
    if (!job) {
      const run = getRunRecord(this.#opts.db, runId);
      if (run?.status === 'queued') {
        setRunStatus(this.#opts.db, runId, 'cancelled', { reason: 'Cancelled by the user before it started.' });
        this.#emitStatus(runId);
      }
      return getRunRecord(this.#opts.db, runId)?.status ?? 'cancelled';
    }
    if (!job.cancelRequested) {
      job.cancelRequested = true;
      job.worker.send({ type: 'cancel' });
      job.killTimer = setTimeout(() => job.worker.kill('SIGKILL'), this.#opts.cancelGraceMs ?? 60_000);
    }
    return 'running';
  }

  /** Waits until no run is active (tests, CLI). */
  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active.values()].map((j) => j.exited));
  }

  /** Stops taking new runs; running workers are asked to stop, and killed after `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    this.#closed = true;
    for (const job of this.#active.values()) {
      job.worker.send({ type: 'shutdown' });
      job.killTimer = setTimeout(() => job.worker.kill('SIGKILL'), graceMs);
    }
    await this.idle();
  }

  #emitStatus(runId: number): void {
    const run = getRunRecord(this.#opts.db, runId);
    if (run) this.#opts.events.emit('run.status', { runId, status: run.status, reason: run.statusReason });
  }
}
