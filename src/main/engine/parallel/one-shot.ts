/**
 * A thread that does one piece of work and answers once, with a time and a memory budget: a huge
 * or crafted file then costs that thread, never the process. What the work throws comes back as
 * the same kind of error (a `FreezeLabError` keeps its code and hint), so callers map it as before.
 */
import { parentPort } from 'node:worker_threads';
import { FreezeLabError, type ErrorCode } from '../../../shared/result.js';
import { spawnModuleThread } from './thread.js';

/** An error as it crosses back from the thread: enough to rebuild it. */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly hint?: string;
}

export type ThreadAnswer<T> = { ok: true; value: T } | { ok: false; error: ThreadError };

export interface OneShotBudget {
  readonly timeoutMs: number;
  /** V8 heap of the thread (typed arrays of file contents count against the process, not this). */
  readonly maxHeapMb: number;
}

export interface OneShotOptions extends OneShotBudget {
  /** Names the work in the budget messages, e.g. "Reading big.pt". */
  readonly what: string;
  /** The hint of a budget error: what may be wrong with the input. */
  readonly hint: string;
}

const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

function rebuild(e: ThreadError): Error {
  if (e.code) return new FreezeLabError(e.code as ErrorCode, e.message, e.hint);
  return Object.assign(new Error(e.message), { name: e.name });
}

/** Runs the thread module `file` (relative to `from`, an `import.meta.url`) on `workerData` and waits for its one answer. */
export function runOneShotThread<T>(from: string, file: string, workerData: unknown, opts: OneShotOptions): Promise<T> {
  const worker = spawnModuleThread(from, file, {
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb },
  });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new FreezeLabError(
              'resource',
              `${opts.what} took longer than ${seconds(opts.timeoutMs)} and was stopped.`,
              opts.hint,
            ),
          ),
        ),
      opts.timeoutMs,
    );
    worker.once('message', (m: ThreadAnswer<T>) => settle(() => (m.ok ? resolve(m.value) : reject(rebuild(m.error)))));
    worker.once('error', (error: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new FreezeLabError(
                'resource',
                `${opts.what} needed more than ${opts.maxHeapMb} MB of memory and was stopped.`,
                opts.hint,
              )
            : error,
        ),
      ),
    );
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`the thread for ${opts.what} exited with code ${code} before answering`))),
    );
  });
}

/**
 * The thread side: runs `work` and posts its one answer (its value, with `transfer` moved rather
 * than copied), or its error.
 */
export async function answerOnce<T>(work: () => Promise<{ value: T; transfer?: ArrayBuffer[] }>): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('a one-shot thread module must run in a worker thread');
  try {
    const { value, transfer } = await work();
    const answer: ThreadAnswer<T> = { ok: true, value };
    port.postMessage(answer, transfer ?? []);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const answer: ThreadAnswer<T> = {
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        ...(e instanceof FreezeLabError ? { code: e.code, ...(e.hint ? { hint: e.hint } : {}) } : {}),
      },
    };
    port.postMessage(answer);
  }
}
