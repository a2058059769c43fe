/**
 * Entry of a training worker process: a Node child process (CLI, web host) or an Electron
 * utility process (desktop app). It talks to the runner over whichever channel it was given.
 */
import type { FromWorker, ToWorker } from './protocol.js';
import { runWorker, type WorkerChannel } from './worker.js';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function channel(): WorkerChannel {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (message: FromWorker) => parentPort.postMessage(message),
      onMessage: (listener: (message: ToWorker) => void) =>
        parentPort.on('message', (e) => listener(e.data as ToWorker)),
    };
  }
  if (!process.send) throw new Error('worker-main must be started as a worker process (no IPC channel).');
  return {
    send: (message: FromWorker) => void process.send?.(message),
    onMessage: (listener: (message: ToWorker) => void) => process.on('message', (m) => listener(m as ToWorker)),
  };
}

const code = await runWorker(channel());
// Let the last IPC messages flush before leaving.
setTimeout(() => process.exit(code), 50);
