/** Run status changes: the lifecycle in `shared/runs.ts` enforced inside write transactions. */
import { canTransition, isFinished, type RunRecord, type RunStatus } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { IllegalTransitionError, RunNotFoundError } from '../errors.js';
import os from 'node:os';
import {
  HEARTBEAT_STALE_MS,
  localProcess,
  ownerAlive,
  thisProcess,
  type LivenessProbe,
  type ProcessIdentity,
  type RunOwner,
} from '../owner.js';
import { getRunRecord, queuedByJson } from './runs.js';
import { toRun, type RunRow } from './rows.js';

/**
 * Runs this machine trains: not those submitted to a cluster (`cluster_jobs`), whose status follows
 * the scheduler and their shard (cluster/), never a local runner or owner check.
 */
const LOCAL = 'id NOT IN (SELECT run_id FROM cluster_jobs)';

/** SQL of the hot status queries, exported so tests can check their plans. */
export const STATUS_SQL = {
  claimNext: `UPDATE runs SET status = 'running', status_reason = NULL, pid = ?, owner_host = ?, owner_started_at = ?,
      heartbeat_at = ?, started_at = COALESCE(started_at, ?), finished_at = NULL
    WHERE id = (SELECT id FROM runs WHERE status = 'queued' AND ${LOCAL} ORDER BY created_at, id LIMIT 1)
      AND status = 'queued'
    RETURNING *`,
  claimOne: `UPDATE runs SET status = 'running', status_reason = NULL, pid = ?, owner_host = ?, owner_started_at = ?,
      heartbeat_at = ?, started_at = COALESCE(started_at, ?), finished_at = NULL
    WHERE id = ? AND status = 'queued' AND ${LOCAL} RETURNING *`,
  running: `SELECT id, pid, owner_host, owner_started_at, heartbeat_at, last_epoch_done FROM runs
    WHERE status = 'running' AND ${LOCAL}`,
  queued: `SELECT id, queued_by_json FROM runs WHERE status = 'queued' AND ${LOCAL} ORDER BY created_at, id`,
  heartbeat: `UPDATE runs SET heartbeat_at = ?
    WHERE id = ? AND status = 'running' AND pid = ? AND owner_host = ? AND owner_started_at IS ?`,
} as const;

interface OwnerRow {
  pid: number | null;
  owner_host: string | null;
  owner_started_at: number | null;
  heartbeat_at: number | null;
}

const toOwner = (row: OwnerRow): RunOwner => ({
  pid: row.pid,
  host: row.owner_host,
  startedAt: row.owner_started_at,
  heartbeatAt: row.heartbeat_at,
});

/**
 * Moves a run to `to` with an optional reason. Refuses illegal changes (`IllegalTransitionError`,
 * e.g. completed -> running). Entering `running` records its owner (`owner`, or the process `pid`
 * on this host) with a first heartbeat, and the first start time; leaving it clears the owner;
 * finishing sets `finished_at`; queuing again clears `finished_at`.
 */
export function setRunStatus(
  db: Db,
  runId: number,
  to: RunStatus,
  opts: { reason?: string | null; pid?: number | null; owner?: ProcessIdentity; now?: number } = {},
): RunRecord {
  const now = opts.now ?? Date.now();
  const owner =
    to !== 'running'
      ? null
      : (opts.owner ?? (opts.pid === undefined || opts.pid === null ? null : localProcess(opts.pid)));
  // Queued again (resume): the process queuing it means to train it.
  const queuedBy = to === 'queued' ? queuedByJson(opts.owner ?? thisProcess(), now) : null;
  return db
    .transaction(() => {
      const current = db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as
        { status: RunStatus } | undefined;
      if (!current) throw new RunNotFoundError(runId);
      if (!canTransition(current.status, to)) throw new IllegalTransitionError(runId, current.status, to);
      db.prepare(
        `UPDATE runs SET status = ?, status_reason = ?, pid = ?, owner_host = ?, owner_started_at = ?, heartbeat_at = ?,
           queued_by_json = CASE WHEN ? IS NULL THEN queued_by_json ELSE ? END,
           started_at = CASE WHEN ? THEN COALESCE(started_at, ?) ELSE started_at END,
           finished_at = ?
         WHERE id = ?`,
      ).run(
        to,
        opts.reason ?? null,
        owner?.pid ?? null,
        owner?.host ?? null,
        owner?.startedAt ?? null,
        owner ? now : null,
        queuedBy,
        queuedBy,
        to === 'running' ? 1 : 0,
        now,
        isFinished(to) ? now : null,
        runId,
      );
      return getRunRecord(db, runId);
    })
    .immediate();
}

/**
 * Atomically takes a queued run (the given one, else the oldest) and marks it running for its
 * owner (`owner`, or the process `pid` on this host). Returns undefined when there is nothing to
 * take (or the given run is not queued): two workers can never claim the same run, because the
 * status check is part of the single UPDATE.
 */
export function claimRun(
  db: Db,
  opts: { pid?: number; owner?: ProcessIdentity; runId?: number; now?: number },
): RunRecord | undefined {
  const now = opts.now ?? Date.now();
  const owner = opts.owner ?? localProcess(opts.pid ?? process.pid);
  const who = [owner.pid, owner.host, owner.startedAt, now, now] as const;
  const row = (
    opts.runId === undefined
      ? db.prepare(STATUS_SQL.claimNext).get(...who)
      : db.prepare(STATUS_SQL.claimOne).get(...who, opts.runId)
  ) as RunRow | undefined;
  return row ? toRun(row) : undefined;
}

/** Who owns a run (null fields when it is not running). */
export function runOwner(db: Db, runId: number): RunOwner {
  const row = db.prepare('SELECT pid, owner_host, owner_started_at, heartbeat_at FROM runs WHERE id = ?').get(runId) as
    OwnerRow | undefined;
  if (!row) throw new RunNotFoundError(runId);
  return toOwner(row);
}

/**
 * The owner's heartbeat. Returns false when `owner` no longer owns the run (another process judged
 * it dead and took the run over): the caller must then stop writing to it.
 */
export function heartbeat(db: Db, runId: number, owner: ProcessIdentity, now: number = Date.now()): boolean {
  return db.prepare(STATUS_SQL.heartbeat).run(now, runId, owner.pid, owner.host, owner.startedAt).changes > 0;
}

/** Whether `owner` still owns the running run (the check before a worker's last writes). */
export function ownsRun(db: Db, runId: number, owner: ProcessIdentity): boolean {
  const o = runOwner(db, runId);
  const status = (db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: RunStatus }).status;
  return status === 'running' && o.pid === owner.pid && o.host === owner.host && o.startedAt === owner.startedAt;
}

/**
 * Queued runs a runner in process `me` may start, oldest first: those it queued, those queued
 * before schema 4 (nobody's), and those whose queuing process is gone (judged as run owners are:
 * on another host, once its queuing time is older than the stale limit). Runs another live process
 * queued are left to its own runner, which follows them and would otherwise lose them when it ends.
 */
export function queuedRunsFor(db: Db, me: ProcessIdentity, probe: LivenessProbe = {}): number[] {
  const rows = db.prepare(STATUS_SQL.queued).all() as { id: number; queued_by_json: string | null }[];
  return rows
    .filter((row) => {
      if (row.queued_by_json === null) return true;
      const by = JSON.parse(row.queued_by_json) as ProcessIdentity & { at: number };
      if (by.pid === me.pid && by.host === me.host && by.startedAt === me.startedAt) return true;
      return !ownerAlive({ pid: by.pid, host: by.host, startedAt: by.startedAt, heartbeatAt: by.at }, probe);
    })
    .map((row) => row.id);
}

/**
 * `running` runs whose owner is gone (crash, power loss, killed app; on another host, a heartbeat
 * older than the stale limit) become `interrupted` with a reason saying so. Runs of live owners, in
 * this process or any other sharing the database, are left alone. Returns the interrupted ids.
 */
export function markInterruptedRuns(
  db: Db,
  opts: LivenessProbe & { isAlive?: (owner: RunOwner) => boolean } = {},
): number[] {
  const isAlive = opts.isAlive ?? ((owner: RunOwner) => ownerAlive(owner, opts));
  const now = opts.now ?? Date.now();
  return db
    .transaction(() => {
      const rows = db.prepare(STATUS_SQL.running).all() as (OwnerRow & { id: number; last_epoch_done: number })[];
      const update = db.prepare(
        `UPDATE runs SET status = 'interrupted', status_reason = ?, pid = NULL, owner_host = NULL,
           owner_started_at = NULL, heartbeat_at = NULL, finished_at = ? WHERE id = ?`,
      );
      const ids: number[] = [];
      for (const row of rows) {
        if (isAlive(toOwner(row))) continue;
        const who = row.pid === null ? 'The process running it' : `The process running it (pid ${row.pid})`;
        const kept = row.last_epoch_done >= 0 ? `epochs 0-${row.last_epoch_done} are kept` : 'no epoch had finished';
        // From another host only the heartbeat is known: say that, rather than claim the process died.
        const what =
          row.owner_host !== null && row.owner_host !== (opts.host ?? os.hostname())
            ? `The process running it on ${row.owner_host} (pid ${row.pid}) sent no heartbeat for over ${Math.round((opts.staleMs ?? HEARTBEAT_STALE_MS) / 1000)} s`
            : `${who} stopped before the run finished`;
        update.run(`${what}; ${kept}. Queue it again to resume.`, now, row.id);
        ids.push(row.id);
      }
      return ids;
    })
    .immediate();
}

/** Every run's status, reason and progress: what another process may have changed (see jobs/db-watch.ts). */
export function runStates(db: Db): { id: number; status: RunStatus; reason: string | null; lastEpochDone: number }[] {
  const rows = db.prepare('SELECT id, status, status_reason, last_epoch_done FROM runs').all() as {
    id: number;
    status: RunStatus;
    status_reason: string | null;
    last_epoch_done: number;
  }[];
  return rows.map((r) => ({ id: r.id, status: r.status, reason: r.status_reason, lastEpochDone: r.last_epoch_done }));
}
