/**
 * How the job runner starts a worker process. Node hosts (CLI, web host) fork a child process;
 * the Electron shell supplies a spawner over `utilityProcess.fork` with the same interface.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './protocol.js';

export interface WorkerHandle {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type WorkerSpawner = (entry: string) => WorkerHandle;

/** The worker's entry file: compiled JS next to this module, or the TS source under tsx (tests). */
export function workerEntry(): string {
  const url = new URL(import.meta.url.endsWith('.ts') ? './worker-main.ts' : './worker-main.js', import.meta.url);
  return fileURLToPath(url);
}

export const forkWorker: WorkerSpawner = (entry) => {
  const child = fork(entry, [], {
    // Running from TypeScript sources (tests, `tsx`): load the worker through tsx as well.
    execArgv: entry.endsWith('.ts') ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  // A worker that has just exited can still look connected: the write then fails with EPIPE,
  // reported to a callback or as an 'error' event. Its exit is handled by onExit; nothing to add.
  // Any other error (the process could not start) stays as loud as before.
  child.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_IPC_CHANNEL_CLOSED') return;
    throw error;
  });
  return {
    pid: child.pid,
    send: (message) => {
      if (child.connected) child.send(message, (error) => void error);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as FromWorker)),
    onExit: (listener) => child.on('exit', listener),
    kill: (signal) => child.kill(signal),
  };
};
