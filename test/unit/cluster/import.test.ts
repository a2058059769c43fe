/**
 * Importing task shards: idempotent (UUIDs, natural keys), safe while a task still writes its
 * shard, refusing a shard of another schema, and keeping cluster runs away from local runners.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importSweep, type AskSlurm } from '../../../src/main/cluster/import.js';
import { shardPath } from '../../../src/main/cluster/script.js';
import {
  addArtifact,
  addClusterJob,
  addRunNote,
  addSamples,
  claimRun,
  createRun,
  createSweep,
  databaseId,
  getRun,
  LATEST_SCHEMA_VERSION,
  markInterruptedRuns,
  openStore,
  queuedRunsFor,
  recordEpoch,
  setRunStatus,
  thisProcess,
  type Db,
} from '../../../src/main/store/index.js';
import { FreezeLabError } from '../../../src/shared/result.js';
import { epoch, newRun, tempDir } from '../store/fixtures.js';

let dirs: string[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});
const store = (file: string, opts: { upToVersion?: number } = {}): Db => {
  const db = openStore(file, opts);
  open.push(db);
  return db;
};

/** Slurm cannot be asked (as on a laptop): the shards' word only. */
const noSlurm: AskSlurm = async () => undefined;

const SWEEP_UUID = '6f1c2a4e-8d3b-4f7a-9c2e-1a2b3c4d5e6f';
const RUN_UUIDS = ['0b7e1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b', '1c8f2b63-4d5e-4f60-9bac-1d2e3f4a5b6c'];

interface Task {
  readonly db: Db;
  readonly runId: number;
  readonly runDir: string;
}

/** A task's shard as `freezelab train --config` makes it: the sweep and its run, by UUID, running. */
function task(sweepDir: string, i: number): Task {
  const db = store(shardPath(sweepDir, i));
  const sweep = createSweep(db, { name: 'presets', config: { freezes: ['none', 'backbone'] }, uuid: SWEEP_UUID }, 100);
  const run = createRun(db, newRun({ sweepId: sweep.id, name: `run ${i}`, epochs: 3 }), 101, { uuid: RUN_UUIDS[i]! });
  claimRun(db, { runId: run.id });
  const runDir = path.join(path.dirname(shardPath(sweepDir, i)), 'runs', databaseId(db), String(run.id));
  fs.mkdirSync(runDir, { recursive: true });
  return { db, runId: run.id, runDir };
}

/** Trains epoch `n`: records it with samples and a note, and writes best/last checkpoints. */
function trainEpoch(t: Task, n: number): void {
  recordEpoch(t.db, t.runId, epoch(n), [
    { classId: 0, name: 'person', images: 4, instances: 9, precision: 0.5, recall: 0.4, ap50: 0.45, ap50_95: 0.3 },
  ]);
  addSamples(t.db, t.runId, [
    {
      tMs: 1000 * (n + 1),
      tensorBytes: 10,
      rssBytes: 20,
      gpuMemUsedBytes: null,
      gpuUtil: null,
      processGpuMemBytes: null,
    },
  ]);
  addRunNote(t.db, t.runId, 'info', 'AutoAnchor: anchors fit', 200);
  for (const kind of ['best', 'last'] as const) {
    const file = path.join(t.runDir, `${kind}.safetensors`);
    const bytes = Buffer.from(`${kind} weights after epoch ${n}`);
    fs.writeFileSync(file, bytes);
    addArtifact(t.db, t.runId, {
      kind,
      path: file,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      epoch: n,
    });
  }
}

/** Every row of every table. */
function dump(db: Db): string {
  const tables = (
    db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]
  ).map((t) => t.name);
  return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
}

function writeSweepJson(sweepDir: string, jobId: string | null): void {
  fs.writeFileSync(
    path.join(sweepDir, 'sweep.json'),
    JSON.stringify({
      kind: 'freezelab-slurm-sweep',
      schemaVersion: LATEST_SCHEMA_VERSION,
      uuid: SWEEP_UUID,
      name: 'presets',
      jobId,
      runs: RUN_UUIDS.map((uuid, task) => ({ task, uuid, name: `run ${task}` })),
    }),
  );
}

describe('import of a sweep folder', () => {
  it('brings runs, epochs, samples, notes and checkpoints home; a second import changes nothing', async () => {
    const sweepDir = dir();
    const tasks = [task(sweepDir, 0), task(sweepDir, 1)];
    for (const t of tasks) {
      trainEpoch(t, 0);
      trainEpoch(t, 1);
      setRunStatus(t.db, t.runId, 'completed');
    }
    writeSweepJson(sweepDir, '77');
    const homeDir = dir();
    const local = store(path.join(homeDir, 'freezelab.db'));
    const runsDir = path.join(homeDir, 'runs');

    const first = await importSweep(local, sweepDir, { runsDir, ask: noSlurm });
    expect(first.shards).toHaveLength(2);
    expect(first.counts).toMatchObject({
      sweeps: 1,
      runsAdded: 2,
      runsUpdated: 0,
      epochs: 4,
      classAp: 4,
      samples: 4,
      notes: 2,
      artifacts: 4,
      clusterJobs: 2,
    });
    expect(first.runs.map((r) => [r.uuid, r.status, r.epochs, r.checkpoints])).toEqual([
      [RUN_UUIDS[0], 'completed', 2, 2],
      [RUN_UUIDS[1], 'completed', 2, 2],
    ]);
    expect(first.runs[0]!.cluster).toMatchObject({ jobId: '77', arrayTask: 0, state: 'completed' });
    // One sweep here too, holding both runs; checkpoints copied into this database's run folders.
    const detail = getRun(local, first.runs[1]!.runId);
    expect(detail.run).toMatchObject({ name: 'run 1', status: 'completed', lastEpochDone: 1, sweepId: 1 });
    expect(detail.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    for (const a of detail.artifacts) {
      expect(a.path.startsWith(path.join(runsDir, databaseId(local), String(detail.run.id)) + path.sep)).toBe(true);
      expect(fs.readFileSync(a.path, 'utf8')).toBe(`${a.kind} weights after epoch 1`);
    }

    const before = dump(local);
    const again = await importSweep(local, sweepDir, { runsDir, ask: noSlurm });
    expect(Object.values(again.counts)).toEqual(Object.values(again.counts).map(() => 0));
    expect(dump(local)).toBe(before);
    // One shard given directly: the same runs, still nothing new.
    const one = await importSweep(local, shardPath(sweepDir, 1), { runsDir, ask: noSlurm });
    expect(one.runs.map((r) => r.runId)).toEqual([detail.run.id]);
    expect(dump(local)).toBe(before);
  });

  it('is safe while a task writes its shard: later imports bring the later epochs and finished checkpoints', async () => {
    const sweepDir = dir();
    const t = task(sweepDir, 0);
    trainEpoch(t, 0);
    const homeDir = dir();
    const local = store(path.join(homeDir, 'freezelab.db'));
    const runsDir = path.join(homeDir, 'runs');
    const opts = { runsDir, ask: noSlurm };

    const early = await importSweep(local, sweepDir, opts);
    expect(early.runs[0]).toMatchObject({ status: 'running', epochs: 1, checkpoints: 2 });
    const id = early.runs[0]!.runId;

    // The task goes on (its shard open for writing the whole time); a checkpoint is half written.
    trainEpoch(t, 1);
    fs.writeFileSync(path.join(t.runDir, 'last.safetensors'), 'half of the last weights');
    const middle = await importSweep(local, sweepDir, opts);
    expect(middle.counts).toMatchObject({ runsAdded: 0, runsUpdated: 1, epochs: 1, artifacts: 1 });
    const kept = getRun(local, id).artifacts;
    expect(kept.map((a) => [a.kind, a.epoch])).toEqual([
      ['last', 0],
      ['best', 1],
    ]);
    // A task's run is never claimed, interrupted or resumed by a runner here.
    expect(markInterruptedRuns(local, { isAlive: () => false })).toEqual([]);

    fs.writeFileSync(path.join(t.runDir, 'last.safetensors'), 'last weights after epoch 1');
    setRunStatus(t.db, t.runId, 'completed');
    const done = await importSweep(local, sweepDir, opts);
    expect(done.counts).toMatchObject({ epochs: 0, artifacts: 1, statusChanges: 1 });
    expect(done.runs[0]).toMatchObject({ status: 'completed', epochs: 2, checkpoints: 2 });
    expect(getRun(local, id).run.lastEpochDone).toBe(1);
  });

  it("refuses a shard of a newer or older schema, or another application's file, and writes nothing", async () => {
    const homeDir = dir();
    const local = store(path.join(homeDir, 'freezelab.db'));
    const before = dump(local);
    const opts = { runsDir: path.join(homeDir, 'runs'), ask: noSlurm };

    const newer = path.join(dir(), 'newer.db');
    const written = store(newer);
    written.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    written.close(); // checkpointed into the file, so a copy of it is the same database
    await expect(importSweep(local, newer, opts)).rejects.toThrow(
      `${newer} is a FreezeLab database of schema ${LATEST_SCHEMA_VERSION + 1}; this FreezeLab reads schema ${LATEST_SCHEMA_VERSION}, so it is not imported.`,
    );
    const error = await importSweep(local, newer, opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FreezeLabError);
    expect((error as FreezeLabError).hint).toMatch(/newer FreezeLab/);

    const older = path.join(dir(), 'older.db');
    store(older, { upToVersion: 4 });
    await expect(importSweep(local, older, opts)).rejects.toThrow(/of schema 4; .* so it is not imported/);

    const foreign = path.join(dir(), 'other.db');
    const raw = new Database(foreign);
    raw.exec('CREATE TABLE notes (x TEXT)');
    raw.close();
    await expect(importSweep(local, foreign, opts)).rejects.toThrow(/is not a FreezeLab database/);

    // A sweep folder with one bad shard among good ones: refused before anything is merged.
    const sweepDir = dir();
    trainEpoch(task(sweepDir, 0), 0);
    fs.mkdirSync(path.dirname(shardPath(sweepDir, 1)), { recursive: true });
    fs.copyFileSync(newer, shardPath(sweepDir, 1));
    await expect(importSweep(local, sweepDir, opts)).rejects.toThrow(/schema/);
    expect(dump(local)).toBe(before);

    await expect(importSweep(local, path.join(homeDir, 'nothing-here'), opts)).rejects.toThrow(/does not exist/);
  });
});

describe('cluster runs in the local database', () => {
  it('are never claimed, offered or interrupted by a local runner', () => {
    const db = store(path.join(dir(), 'freezelab.db'));
    const run = createRun(db, newRun());
    addClusterJob(db, {
      runId: run.id,
      scheduler: 'slurm',
      jobId: '5',
      arrayTask: 0,
      sweepDir: '/s',
      shardPath: '/s/tasks/0/freezelab.db',
      logPath: null,
      state: 'pending',
      reason: null,
    });
    const local = createRun(db, newRun({ name: 'here' }));
    expect(queuedRunsFor(db, thisProcess())).toEqual([local.id]);
    expect(claimRun(db, { runId: run.id })).toBeUndefined();
    expect(claimRun(db, {})?.id).toBe(local.id);
    expect(claimRun(db, {})).toBeUndefined();
    db.prepare("UPDATE runs SET status = 'running' WHERE id = ?").run(run.id);
    expect(markInterruptedRuns(db, { isAlive: () => false })).toEqual([local.id]);
    expect(getRun(db, run.id).run.status).toBe('running');
  });
});
