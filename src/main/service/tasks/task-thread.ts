/** Entry of a task thread: runs one task (tasks.ts) and answers with its result or its error. */
import { parentPort, workerData } from 'node:worker_threads';
import { FreezeLabError } from '../../../shared/result.js';
import { TASKS, type TaskError, type TaskName } from './tasks.js';

const port = parentPort;
if (!port) throw new Error('task-thread must run in a worker thread');
const { task, args } = workerData as { task: TaskName; args: never };
try {
  port.postMessage({ ok: true, value: await TASKS[task](args) });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  const out: TaskError = {
    name: e.name,
    message: e.message,
    ...(e instanceof FreezeLabError ? { code: e.code, ...(e.hint ? { hint: e.hint } : {}) } : {}),
  };
  port.postMessage({ ok: false, error: out });
}
