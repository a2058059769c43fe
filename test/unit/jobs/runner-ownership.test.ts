import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FromWorker, ToWorker } from '../../../src/main/jobs/protocol.js';
import { JobRunner } from '../../../src/main/jobs/runner.js';
import type { WorkerHandle } from '../../../src/main/jobs/spawn.js';
import { EventBus } from '../../../src/main/jobs/events.js';
import {
  claimRun,
  createRun,
  getRunRecord,
  openStore,
  processStartTime,
  type Db,
} from '../../../src/main/store/index.js';
import os from 'node:os';
import { newRun, tempDir } from '../store/fixtures.js';

/** A worker that does nothing until the test ends it. */
class FakeWorker implements WorkerHandle {
  readonly sent: ToWorker[] = [];
  #exit: ((code: number | null, signal: string | null) => void) | undefined;
  constructor(readonly pid: number) {}
  send(message: ToWorker): void {
    this.sent.push(message);
  }
  onMessage(_listener: (message: FromWorker) => void): void {}
  onExit(listener: (code: number | null, signal: string | null) => void): void {
    this.#exit = listener;
  }
  kill(): void {
    this.exit(null, 'SIGKILL');
  }
  exit(code: number | null, signal: string | null = null): void {
    this.#exit?.(code, signal);
  }
}

let dir: string;
let db: Db;
let workers: FakeWorker[];
const runner = (now?: number) =>
  new JobRunner({
    db,
    dbPath: path.join(dir, 'runs.db'),
    runsDir: path.join(dir, 'runs'),
    events: new EventBus(),
    spawn: () => {
      const w = new FakeWorker(900_000 + workers.length);
      workers.push(w);
      return w;
    },
    workerEntry: 'unused',
    ...(now === undefined ? {} : { liveness: { now } }),
  });

beforeEach(() => {
  dir = tempDir();
  db = openStore(path.join(dir, 'runs.db'));
  workers = [];
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const otherHost = { pid: 12, host: 'lab-pc-2', startedAt: 1 };

describe('job runner across processes', () => {
  it('start() leaves runs of live owners running, and interrupts those of dead or silent ones', () => {
    const now = Date.now();
    const live = createRun(db, newRun()).id;
    const silent = createRun(db, newRun()).id;
    const dead = createRun(db, newRun()).id;
    claimRun(db, { owner: otherHost, runId: live, now: now - 5_000 });
    claimRun(db, { owner: otherHost, runId: silent, now: now - 61_000 });
    claimRun(db, { owner: { pid: 2 ** 30, host: os.hostname(), startedAt: 1 }, runId: dead, now });
    expect(runner(now).start().sort()).toEqual([silent, dead].sort());
    expect(getRunRecord(db, live).status).toBe('running');
    expect(workers).toHaveLength(0); // nothing queued
  });

  it("starts the runs its process queued, not another live process's, and never ends a run it did not claim", () => {
    const theirs = createRun(db, newRun()).id;
    const parent = {
      pid: process.ppid,
      host: os.hostname(),
      startedAt: processStartTime(process.ppid),
      at: Date.now(),
    };
    db.prepare('UPDATE runs SET queued_by_json = ? WHERE id = ?').run(JSON.stringify(parent), theirs);
    const mine = createRun(db, newRun()).id;
    const r = runner();
    r.start();
    expect(r.activeRunIds).toEqual([mine]);
    expect(workers[0]!.sent).toContainEqual(expect.objectContaining({ type: 'start', runId: mine }));

    // Another process's worker claims our run first; ours finds it taken and exits: the run is theirs.
    claimRun(db, { owner: otherHost, runId: mine });
    workers[0]!.exit(0);
    expect(getRunRecord(db, mine)).toMatchObject({ status: 'running', pid: otherHost.pid });
    expect(r.activeRunIds).toEqual([]); // and it does not take the other process's queued run
    expect(getRunRecord(db, theirs).status).toBe('queued');
  });

  it('a worker of ours that dies while owning its run leaves it interrupted', () => {
    const id = createRun(db, newRun()).id;
    const r = runner();
    r.start();
    claimRun(db, { pid: workers[0]!.pid, runId: id });
    workers[0]!.exit(null, 'SIGKILL');
    expect(getRunRecord(db, id)).toMatchObject({ status: 'interrupted', pid: null });
    expect(getRunRecord(db, id).statusReason).toMatch(/was killed \(SIGKILL\)/);
  });
});
