/**
 * The job runner: a queue of training runs (one at a time by default), each in its own worker
 * process so a crash or an out-of-memory never takes the UI down. Queued runs live in the
 * database; the runner starts them in order, forwards their progress as events, cancels them at
 * a batch boundary, and marks a run `interrupted` when its process dies without finishing it.
 */
import { isFinished, type RunStatus } from '../../shared/runs.js';
import type { EventBus } from './events.js';
import {
  getRunRecord,
  markInterruptedRuns,
  ownerAlive,
  queuedRunsFor,
  setRunStatus,
  thisProcess,
  type Db,
  type LivenessProbe,
} from '../store/index.js';
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
  /** How owners of running runs are judged alive (tests inject a clock or a stale limit). */
  readonly liveness?: LivenessProbe;
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

  /**
   * Start-up: runs left `running` by a process that is gone become `interrupted`; queued runs start.
   * Runs that another live process is training (another window, `serve`, a CLI trainer) are theirs:
   * only a dead owner (or, across hosts, a stale heartbeat) makes a run interrupted.
   */
  start(): number[] {
    const interrupted = markInterruptedRuns(this.#opts.db, {
      isAlive: (owner) =>
        [...this.#active.values()].some((j) => j.worker.pid === owner.pid) || ownerAlive(owner, this.#opts.liveness),
    });
    for (const runId of interrupted) this.#emitStatus(runId);
    this.pump();
    return interrupted;
  }

  get activeRunIds(): number[] {
    return [...this.#active.keys()];
  }

  /** Starts queued runs while there is room: its own, and those whose queuing process is gone. */
  pump(): void {
    if (this.#closed) return;
    const limit = this.#opts.concurrency ?? 1;
    while (this.#active.size < limit) {
      const next = queuedRunsFor(this.#opts.db, thisProcess(), this.#opts.liveness).find((id) => !this.#active.has(id));
      if (next === undefined) return;
      this.#launch(next);
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
        events.emit('run.epoch', message.payload);
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
    // Another process's worker claimed the run first (ours found it taken and left): not ours to end.
    if (run.status === 'running' && run.pid !== job.worker.pid) return;
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
