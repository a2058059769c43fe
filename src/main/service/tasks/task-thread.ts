/** Entry of a task thread: runs one task (tasks.ts) and answers with its result or its error. */
import { workerData } from 'node:worker_threads';
import { answerOnce } from '../../engine/parallel/one-shot.js';
import { TASKS, type TaskName } from './tasks.js';

const { task, args } = workerData as { task: TaskName; args: never };
await answerOnce(async () => ({ value: await TASKS[task](args) }));
