/**
 * Messages between the job runner (UI-side process) and a training worker process.
 * The worker writes what it measures to the database itself (its own connection, WAL), so
 * nothing recorded depends on the parent staying alive; messages only carry live progress.
 */
import type { Events, RunProgress } from '../../shared/contract.js';
import type { RunStatus } from '../../shared/runs.js';

export type ToWorker =
  | { readonly type: 'start'; readonly runId: number; readonly dbPath: string; readonly runsDir: string }
  | { readonly type: 'cancel' }
  /** The app is closing: stop at the next batch boundary and leave the run resumable. */
  | { readonly type: 'shutdown' };

export type FromWorker =
  | { readonly type: 'progress'; readonly progress: RunProgress }
  /** The `run.epoch` event's payload, forwarded by the runner as is. */
  | { readonly type: 'epoch'; readonly payload: Events['run.epoch'] }
  | { readonly type: 'status'; readonly runId: number; readonly status: RunStatus; readonly reason: string | null }
  | { readonly type: 'log'; readonly level: 'info' | 'warning' | 'error'; readonly message: string };

export function isFromWorker(value: unknown): value is FromWorker {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
