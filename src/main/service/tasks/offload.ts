/**
 * Runs a task off the service's event loop, in a thread with a time and a memory budget: a huge
 * or crafted file then costs that thread, never the process, and `serve` keeps answering. What
 * the task throws comes back as the same kind of error, so the service maps it as before.
 */
import { FreezeLabError, type ErrorCode } from '../../../shared/result.js';
import type { CommandArgs, CommandOutput } from '../../../shared/contract.js';
import { spawnModuleThread } from '../../engine/parallel/thread.js';
import type { TaskError, TaskName } from './tasks.js';

export interface TaskBudget {
  readonly timeoutMs: number;
  /** V8 heap of the thread (typed arrays of file contents count against the process, not this). */
  readonly maxHeapMb: number;
}

export const DEFAULT_TASK_BUDGET: TaskBudget = { timeoutMs: 120_000, maxHeapMb: 2048 };

const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

function rebuild(e: TaskError): Error {
  if (e.code) return new FreezeLabError(e.code as ErrorCode, e.message, e.hint);
  return Object.assign(new Error(e.message), { name: e.name });
}

/** `what` names the file for the budget messages, e.g. "Reading big.pt". */
export function runTask<K extends TaskName>(
  task: K,
  args: CommandArgs<K>,
  what: string,
  budget: TaskBudget = DEFAULT_TASK_BUDGET,
): Promise<CommandOutput<K>> {
  const worker = spawnModuleThread(import.meta.url, './task-thread', {
    workerData: { task, args },
    resourceLimits: { maxOldGenerationSizeMb: budget.maxHeapMb },
  });
  return new Promise<CommandOutput<K>>((resolve, reject) => {
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
              `${what} took longer than ${seconds(budget.timeoutMs)} and was stopped.`,
              'The file may be damaged, crafted, or far larger than a YOLOv5 model or dataset.',
            ),
          ),
        ),
      budget.timeoutMs,
    );
    worker.once('message', (m: { ok: true; value: CommandOutput<K> } | { ok: false; error: TaskError }) =>
      settle(() => (m.ok ? resolve(m.value) : reject(rebuild(m.error)))),
    );
    worker.once('error', (error: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new FreezeLabError(
                'resource',
                `${what} needed more than ${budget.maxHeapMb} MB of memory and was stopped.`,
                'The file may be damaged, crafted, or far larger than a YOLOv5 model or dataset.',
              )
            : error,
        ),
      ),
    );
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`the task thread for ${what} exited with code ${code} before answering`))),
    );
  });
}
