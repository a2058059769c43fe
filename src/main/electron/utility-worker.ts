/**
 * Training workers in the desktop app run as Electron utility processes (a crash or an
 * out-of-memory there never takes the window down), behind the same interface as the child
 * processes the CLI and web host use.
 */
import { utilityProcess } from 'electron';
import type { FromWorker } from '../jobs/protocol.js';
import type { WorkerSpawner } from '../jobs/spawn.js';

export const utilityWorker: WorkerSpawner = (entry) => {
  const child = utilityProcess.fork(entry, [], { serviceName: 'FreezeLab training', stdio: 'inherit' });
  let alive = true;
  child.on('exit', () => (alive = false));
  return {
    get pid() {
      return child.pid;
    },
    send: (message) => {
      if (alive) child.postMessage(message);
    },
    onMessage: (listener) => child.on('message', (message: unknown) => listener(message as FromWorker)),
    onExit: (listener) => child.on('exit', (code: number) => listener(code, null)),
    kill: () => void child.kill(),
  };
};
