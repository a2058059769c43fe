/**
 * Entry of a replica thread: answers the coordinator's messages one at a time, in order. An error
 * in one request is sent back as a value; the coordinator decides what it means for the run.
 */
import { parentPort } from 'node:worker_threads';
import type { ToReplica } from './protocol.js';
import { Replica } from './replica.js';

const port = parentPort;
if (!port) throw new Error('replica-thread must run in a worker thread');
const replica = new Replica();
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToReplica) => {
  queue = queue.then(async () => {
    try {
      const reply = await replica.handle(msg);
      port.postMessage(reply.message, reply.transfer);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({
        type: 'error',
        seq: msg.seq,
        name: e.name,
        message: e.message,
        ...(e.stack ? { stack: e.stack } : {}),
      });
    }
  });
});
