/**
 * Changes other processes make to the shared database, as events: a run started, finished or
 * advanced an epoch in another window, `serve` or CLI trainer. Without them this process's runs list
 * (which refreshes on run events) and a CLI following a run another process trains would not move.
 */
import type { RunStatus } from '../../shared/runs.js';
import type { EventBus } from './events.js';
import { runStates, type Db } from '../store/index.js';

/** How often the watcher looks (one `PRAGMA data_version` read when nothing changed). */
export const WATCH_INTERVAL_MS = 2000;

interface Seen {
  readonly status: RunStatus;
  readonly reason: string | null;
  readonly lastEpochDone: number;
}

export class DatabaseWatcher {
  readonly #db: Db;
  readonly #events: EventBus;
  /** Runs this process's own runner reports on already (from its workers' messages). */
  readonly #ownRuns: () => readonly number[];
  #version: number;
  #seen: Map<number, Seen>;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Db, events: EventBus, ownRuns: () => readonly number[] = () => []) {
    this.#db = db;
    this.#events = events;
    this.#ownRuns = ownRuns;
    this.#version = this.#dataVersion();
    this.#seen = this.#snapshot();
  }

  /** Polls every `intervalMs` without keeping the process alive. */
  start(intervalMs = WATCH_INTERVAL_MS): void {
    this.#timer ??= setInterval(() => this.poll(), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Emits `run.status` for each run another connection created or changed (status, reason or
   * epochs done) since the last poll. Returns the ids it reported.
   */
  poll(): number[] {
    // data_version moves only when another connection committed: a cheap no-change check.
    const version = this.#dataVersion();
    if (version === this.#version) return [];
    this.#version = version;
    const now = this.#snapshot();
    const own = new Set(this.#ownRuns());
    const changed: number[] = [];
    for (const [runId, run] of now) {
      const before = this.#seen.get(runId);
      if (
        before &&
        before.status === run.status &&
        before.reason === run.reason &&
        before.lastEpochDone === run.lastEpochDone
      ) {
        continue;
      }
      if (own.has(runId)) continue;
      changed.push(runId);
      this.#events.emit('run.status', { runId, status: run.status, reason: run.reason });
    }
    this.#seen = now;
    return changed;
  }

  #dataVersion(): number {
    return this.#db.pragma('data_version', { simple: true }) as number;
  }

  #snapshot(): Map<number, Seen> {
    return new Map(
      runStates(this.#db).map((r) => [r.id, { status: r.status, reason: r.reason, lastEpochDone: r.lastEpochDone }]),
    );
  }
}
