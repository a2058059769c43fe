import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/main/store/db.js';
import {
  HEARTBEAT_STALE_MS,
  claimRun,
  createRun,
  describeOwner,
  getRunRecord,
  heartbeat,
  markInterruptedRuns,
  openStore,
  ownerAlive,
  ownsRun,
  processStartTime,
  queuedRunsFor,
  runOwner,
  setRunStatus,
  thisProcess,
  type ProcessIdentity,
} from '../../../src/main/store/index.js';
import { newRun, tempDir } from './fixtures.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = tempDir();
  db = openStore(path.join(dir, 'runs.db'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const host = os.hostname();
const NOW = 1_800_000_000_000;

describe('ownerAlive', () => {
  const probe = { now: NOW, host: 'here', pidAlive: (pid: number) => pid === 10, startTimeOf: () => 5000 };

  it('same host: the pid must exist and have started when recorded (a reused pid is not the owner)', () => {
    expect(ownerAlive({ pid: 10, host: 'here', startedAt: 5000, heartbeatAt: NOW }, probe)).toBe(true);
    expect(ownerAlive({ pid: 11, host: 'here', startedAt: 5000, heartbeatAt: NOW }, probe)).toBe(false);
    expect(ownerAlive({ pid: 10, host: 'here', startedAt: 5000 - 60_000, heartbeatAt: NOW }, probe)).toBe(false);
    // A same-host owner whose heartbeat is old but whose pid and start time match is alive (a long step).
    expect(
      ownerAlive({ pid: 10, host: 'here', startedAt: 5000, heartbeatAt: NOW - 10 * HEARTBEAT_STALE_MS }, probe),
    ).toBe(true);
    // Start times not readable: a live pid whose heartbeat stopped is taken for a reused pid.
    const blind = { ...probe, startTimeOf: () => null };
    expect(ownerAlive({ pid: 10, host: 'here', startedAt: 5000, heartbeatAt: NOW - 1000 }, blind)).toBe(true);
    expect(ownerAlive({ pid: 10, host: 'here', startedAt: 5000, heartbeatAt: NOW - 61_000 }, blind)).toBe(false);
  });

  it('other host: only the heartbeat counts, against the stale limit', () => {
    const owner = { pid: 10, host: 'lab-pc-2', startedAt: 5000, heartbeatAt: NOW - 59_000 };
    expect(ownerAlive(owner, probe)).toBe(true);
    expect(ownerAlive(owner, { ...probe, now: NOW + 2000 })).toBe(false);
    expect(ownerAlive(owner, { ...probe, staleMs: 30_000 })).toBe(false);
    expect(ownerAlive({ ...owner, heartbeatAt: null }, probe)).toBe(false);
  });

  it('rows from before owners were recorded (no host) have no live owner', () => {
    expect(ownerAlive({ pid: 10, host: null, startedAt: null, heartbeatAt: null }, probe)).toBe(false);
  });

  it('reads real start times: this process, and a pid that does not exist', () => {
    const me = thisProcess();
    expect(me).toMatchObject({ pid: process.pid, host });
    if (process.platform === 'linux') {
      expect(Math.abs(processStartTime(process.pid)! - me.startedAt!)).toBeLessThanOrEqual(1000);
      expect(Math.abs(me.startedAt! - (Date.now() - process.uptime() * 1000))).toBeLessThan(5000);
    }
    expect(processStartTime(2 ** 30)).toBeNull();
    expect(ownerAlive({ ...me, heartbeatAt: null })).toBe(true);
    expect(ownerAlive({ ...me, pid: 2 ** 30, heartbeatAt: null })).toBe(false);
  });

  it('describes an owner for messages', () => {
    expect(
      describeOwner({ pid: 42, host: 'lab', startedAt: Date.UTC(2026, 10, 30, 1, 57, 3), heartbeatAt: null }),
    ).toBe('pid 42 on lab, since 2026-11-30 01:57:03 UTC');
  });
});

describe('run ownership in the store', () => {
  const other = (over: Partial<ProcessIdentity> = {}): ProcessIdentity => ({
    pid: 777,
    host: 'lab-pc-2',
    startedAt: 1000,
    ...over,
  });

  it('claimRun records the owner and a heartbeat; finishing clears them', () => {
    const id = createRun(db, newRun()).id;
    claimRun(db, { owner: thisProcess(), runId: id, now: 50 });
    expect(runOwner(db, id)).toEqual({ ...thisProcess(), heartbeatAt: 50 });
    expect(heartbeat(db, id, thisProcess(), 60)).toBe(true);
    expect(runOwner(db, id).heartbeatAt).toBe(60);
    setRunStatus(db, id, 'completed');
    expect(runOwner(db, id)).toEqual({ pid: null, host: null, startedAt: null, heartbeatAt: null });
  });

  it('markInterruptedRuns leaves runs of live owners alone, in this process or on another host', () => {
    const mine = createRun(db, newRun()).id;
    const remoteFresh = createRun(db, newRun()).id;
    const remoteStale = createRun(db, newRun()).id;
    const reusedPid = createRun(db, newRun()).id;
    const now = Date.now();
    claimRun(db, { owner: thisProcess(), runId: mine, now });
    claimRun(db, { owner: other(), runId: remoteFresh, now: now - 10_000 });
    claimRun(db, { owner: other({ pid: 778 }), runId: remoteStale, now: now - 120_000 });
    // Our pid, but a process that started long before this one: a previous owner whose pid came back.
    claimRun(db, { owner: { ...thisProcess(), startedAt: thisProcess().startedAt! - 3_600_000 }, runId: reusedPid });
    expect(markInterruptedRuns(db, { now }).sort()).toEqual([remoteStale, reusedPid].sort());
    expect(getRunRecord(db, mine).status).toBe('running');
    expect(getRunRecord(db, remoteFresh).status).toBe('running');
    expect(getRunRecord(db, remoteStale).statusReason).toBe(
      'The process running it on lab-pc-2 (pid 778) sent no heartbeat for over 60 s; no epoch had finished. ' +
        'Queue it again to resume.',
    );
    expect(getRunRecord(db, reusedPid).statusReason).toMatch(/^The process running it \(pid \d+\) stopped before/);
    expect(runOwner(db, remoteStale)).toEqual({ pid: null, host: null, startedAt: null, heartbeatAt: null });
  });

  it('a runner starts the runs its process queued, and others only once their queuing process is gone', () => {
    const mine = createRun(db, newRun()).id;
    const theirs = createRun(db, newRun()).id;
    const remote = createRun(db, newRun()).id;
    const gone = createRun(db, newRun()).id;
    const legacy = createRun(db, newRun()).id;
    const now = Date.now();
    const stamp = (id: number, who: object | null) =>
      db.prepare('UPDATE runs SET queued_by_json = ? WHERE id = ?').run(who && JSON.stringify(who), id);
    // Another live process on this host: the test runner's parent (vitest), surely alive.
    stamp(theirs, { pid: process.ppid, host, startedAt: processStartTime(process.ppid), at: now });
    stamp(remote, { pid: 1, host: 'lab-pc-2', startedAt: 1, at: now - 10_000 });
    stamp(gone, { pid: 2 ** 30, host, startedAt: 1, at: now });
    stamp(legacy, null);
    expect(queuedRunsFor(db, thisProcess(), { now })).toEqual([mine, gone, legacy]);
    // The remote queuer's time goes stale: its run is adopted.
    expect(queuedRunsFor(db, thisProcess(), { now: now + 60_000 })).toEqual([mine, remote, gone, legacy]);
    // Another process sees it the other way round: ours is left to us.
    const stranger = { pid: process.ppid, host, startedAt: processStartTime(process.ppid) };
    expect(queuedRunsFor(db, stranger, { now })).toEqual([theirs, gone, legacy]);
    // Resuming stamps the resuming process.
    setRunStatus(db, theirs, 'cancelled');
    setRunStatus(db, theirs, 'queued');
    expect(queuedRunsFor(db, thisProcess(), { now })).toContain(theirs);
  });

  it('a worker whose run was taken over loses its heartbeat and its ownership', () => {
    const id = createRun(db, newRun()).id;
    const first = other({ host: host, pid: 2 ** 30 });
    claimRun(db, { owner: first, runId: id });
    expect(ownsRun(db, id, first)).toBe(true);
    markInterruptedRuns(db); // 2**30 is no process: judged dead
    setRunStatus(db, id, 'queued');
    claimRun(db, { owner: thisProcess(), runId: id });
    expect(heartbeat(db, id, first)).toBe(false);
    expect(ownsRun(db, id, first)).toBe(false);
    expect(ownsRun(db, id, thisProcess())).toBe(true);
    expect(heartbeat(db, id, thisProcess())).toBe(true);
  });
});
