/**
 * Runs a task off the service's event loop, in a thread with a time and a memory budget: a huge
 * or crafted file then costs that thread, never the process, and `serve` keeps answering. What
 * the task throws comes back as the same kind of error, so the service maps it as before.
 */
import type { CommandArgs, CommandOutput } from '../../../shared/contract.js';
import { runOneShotThread, type OneShotBudget } from '../../engine/parallel/one-shot.js';
import type { TaskName } from './tasks.js';

export type TaskBudget = OneShotBudget;

export const DEFAULT_TASK_BUDGET: TaskBudget = { timeoutMs: 120_000, maxHeapMb: 2048 };

/** `what` names the file for the budget messages, e.g. "Reading big.pt". */
export function runTask<K extends TaskName>(
  task: K,
  args: CommandArgs<K>,
  what: string,
  budget: TaskBudget = DEFAULT_TASK_BUDGET,
): Promise<CommandOutput<K>> {
  return runOneShotThread<CommandOutput<K>>(
    import.meta.url,
    './task-thread',
    { task, args },
    {
      ...budget,
      what,
      hint: 'The file may be damaged, crafted, or far larger than a YOLOv5 model or dataset.',
    },
  );
}
