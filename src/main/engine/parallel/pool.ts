/**
 * The coordinator's side of data-parallel work: a fixed set of replica threads, each with its own
 * TensorFlow.js backend and model copy (replica.ts), one request in flight per replica. A replica
 * that dies or throws fails what was asked of it with a message that says which and why.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { BackendName } from '../../../shared/backend.js';
import type { FromReplica, ReplicaModelSpec, ReplicaTrainSpec, ToReplica } from './protocol.js';
import { spawnModuleThread } from './thread.js';

/** A replica thread stopped (crashed, was killed or ran out of memory): the work cannot go on. */
export class ReplicaLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaLostError';
  }
}

/** A request failed inside a replica; carries the replica's own error name and message. */
export class ReplicaError extends Error {
  constructor(
    readonly replicaErrorName: string,
    message: string,
    readonly replicaStack?: string,
  ) {
    super(message);
    this.name = 'ReplicaError';
  }
}

/** Options of {@link ReplicaPool.start}. */
export interface PoolOptions {
  readonly size: number;
  readonly backend: BackendName;
  readonly model: ReplicaModelSpec;
  /** Set up each replica for training (absent: inference only). */
  readonly train?: ReplicaTrainSpec;
}

/** Workers a run uses by default: one per core on WASM and CPU (one thread each); native TensorFlow uses every core itself. */
export function defaultWorkerCount(backend?: BackendName): number {
  return backend === 'tensorflow' || backend === 'tensorflow-gpu' ? 1 : Math.max(1, availableParallelism());
}

/** A request as callers write it: the pool numbers it. */
type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;
export type Request = WithoutSeq<ToReplica>;

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve(m: FromReplica): void; reject(e: Error): void }>;
  lost?: ReplicaLostError;
}

/** Starts a replica thread (replica-thread.ts). */
function spawnReplicaThread(): Worker {
  return spawnModuleThread(import.meta.url, './replica-thread');
}

export class ReplicaPool {
  readonly #threads: Thread[];
  #seq = 0;
  #closing = false;

  private constructor(threads: Thread[]) {
    this.#threads = threads;
  }

  /** Starts `size` replica threads and initialises each with the model (and the training set-up). */
  static async start(opts: PoolOptions): Promise<ReplicaPool> {
    if (!(opts.size >= 1) || !Number.isInteger(opts.size))
      throw new RangeError(`pool size must be a positive integer, got ${opts.size}`);
    const threads: Thread[] = Array.from({ length: opts.size }, () => ({
      worker: spawnReplicaThread(),
      pending: new Map(),
    }));
    const pool = new ReplicaPool(threads);
    threads.forEach((t, rank) => pool.#watch(t, rank));
    try {
      await Promise.all(
        threads.map((_, rank) =>
          pool.request(rank, {
            type: 'init',
            rank,
            backend: opts.backend,
            model: opts.model,
            ...(opts.train ? { train: opts.train } : {}),
          }),
        ),
      );
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.#threads.length;
  }

  /** Sends one request to replica `rank`; resolves with its answer (an error answer rejects). */
  request(rank: number, message: Request, transfer: ArrayBuffer[] = []): Promise<FromReplica> {
    const thread = this.#threads[rank];
    if (!thread) return Promise.reject(new RangeError(`no replica ${rank} in a pool of ${this.size}`));
    if (thread.lost) return Promise.reject(thread.lost);
    const seq = ++this.#seq;
    return new Promise<FromReplica>((resolve, reject) => {
      thread.pending.set(seq, { resolve, reject });
      thread.worker.postMessage({ ...message, seq } as ToReplica, transfer);
    });
  }

  /** Ends a replica thread as a crash would (what a killed thread looks like to the run). */
  async kill(rank: number): Promise<void> {
    await this.#threads[rank]?.worker.terminate();
  }

  /** Stops every thread; requests still waiting are rejected. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
    for (const t of this.#threads) this.#fail(t, new ReplicaLostError('The worker pool was closed.'));
  }

  #watch(thread: Thread, rank: number): void {
    const { worker } = thread;
    worker.on('message', (m: FromReplica) => {
      const waiter = thread.pending.get(m.seq);
      if (!waiter) return;
      thread.pending.delete(m.seq);
      if (m.type === 'error')
        waiter.reject(new ReplicaError(m.name, `worker ${rank + 1} of ${this.size}: ${m.message}`, m.stack));
      else waiter.resolve(m);
    });
    const lost = (reason: string) =>
      new ReplicaLostError(
        `Training worker ${rank + 1} of ${this.size} stopped unexpectedly (${reason}). ` +
          'The run can be resumed from its last completed epoch; if this repeats, use fewer workers (--workers) or a smaller batch.',
      );
    worker.on('error', (e) => this.#fail(thread, lost(`error: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(thread, lost(`thread exited with code ${code}`));
    });
  }

  #fail(thread: Thread, error: ReplicaLostError): void {
    thread.lost ??= error;
    for (const w of thread.pending.values()) w.reject(thread.lost);
    thread.pending.clear();
  }
}
