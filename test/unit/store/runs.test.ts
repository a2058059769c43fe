import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/main/store/db.js';
import {
  IllegalTransitionError,
  RunNotFoundError,
  addArtifact,
  addRunNote,
  addSamples,
  claimRun,
  comparisonRows,
  createRun,
  createSweep,
  deleteRun,
  epochsOf,
  getRun,
  getRunRecord,
  listRuns,
  markInterruptedRuns,
  openStore,
  recordEpoch,
  runsOfSweep,
  samplesOf,
  saveEvaluation,
  setRunModelInfo,
  setRunStatus,
} from '../../../src/main/store/index.js';
import { RUN_STATUSES, canTransition, type ResourceSample, type RunStatus } from '../../../src/shared/runs.js';
import type { EvalResult } from '../../../src/shared/metrics.js';
import { epoch, newRun, tempDir } from './fixtures.js';
import { NOTE_MAX_CHARS } from '../../../src/main/store/queries/notes.js';

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

/** Drives a fresh run to `status` through legal steps only. */
function runIn(status: RunStatus): number {
  const id = createRun(db, newRun()).id;
  const path: Record<RunStatus, RunStatus[]> = {
    queued: [],
    running: ['running'],
    completed: ['running', 'completed'],
    failed: ['running', 'failed'],
    cancelled: ['cancelled'],
    interrupted: ['running', 'interrupted'],
  };
  for (const s of path[status]) setRunStatus(db, id, s, { pid: 4242 });
  return id;
}

describe('run status', () => {
  it('allows exactly the transitions of the lifecycle table, and refuses the rest', () => {
    for (const from of RUN_STATUSES) {
      for (const to of RUN_STATUSES) {
        const id = runIn(from);
        if (canTransition(from, to)) {
          expect(setRunStatus(db, id, to, { reason: 'because' }).status, `${from} -> ${to}`).toBe(to);
        } else {
          expect(() => setRunStatus(db, id, to), `${from} -> ${to}`).toThrow(IllegalTransitionError);
          expect(getRunRecord(db, id).status).toBe(from);
        }
      }
    }
    // The specific rule the brief names.
    const done = runIn('completed');
    expect(() => setRunStatus(db, done, 'running')).toThrow(`Run ${done} is completed and cannot become running.`);
    expect(() => setRunStatus(db, 999, 'running')).toThrow(RunNotFoundError);
  });

  it('records pid, start and finish times and the reason', () => {
    const id = createRun(db, newRun(), 1000).id;
    const running = setRunStatus(db, id, 'running', { pid: 77, now: 2000 });
    expect(running).toMatchObject({ pid: 77, startedAt: 2000, finishedAt: null });
    const failed = setRunStatus(db, id, 'failed', { reason: 'out of memory at epoch 2', now: 3000 });
    expect(failed).toMatchObject({
      pid: null,
      startedAt: 2000,
      finishedAt: 3000,
      statusReason: 'out of memory at epoch 2',
    });
    const requeued = setRunStatus(db, id, 'queued', { now: 4000 });
    expect(requeued).toMatchObject({ finishedAt: null, statusReason: null, startedAt: 2000 });
  });

  it('claimRun takes the oldest queued run once, and never a run that is not queued', () => {
    const a = createRun(db, newRun({ name: 'a' }), 10).id;
    const b = createRun(db, newRun({ name: 'b' }), 20).id;
    const c = createRun(db, newRun({ name: 'c' }), 5).id;
    setRunStatus(db, c, 'cancelled');
    expect(claimRun(db, { pid: 1, now: 30 })).toMatchObject({ id: a, status: 'running', pid: 1, startedAt: 30 });
    expect(claimRun(db, { pid: 2, runId: a })).toBeUndefined(); // already taken
    expect(claimRun(db, { pid: 2, runId: c })).toBeUndefined(); // cancelled
    expect(claimRun(db, { pid: 2 })).toMatchObject({ id: b, pid: 2 });
    expect(claimRun(db, { pid: 3 })).toBeUndefined();
  });

  it('markInterruptedRuns: running rows whose process is gone become interrupted with a reason', () => {
    const dead = runIn('running');
    const alive = createRun(db, newRun()).id;
    setRunStatus(db, alive, 'running', { pid: 5555 });
    const noPid = createRun(db, newRun()).id;
    setRunStatus(db, noPid, 'running');
    const queued = createRun(db, newRun()).id;
    recordEpoch(db, dead, epoch(0));
    recordEpoch(db, dead, epoch(1));
    const ids = markInterruptedRuns(db, { isAlive: (o) => o.pid === 5555, now: 9 });
    expect(ids.sort()).toEqual([dead, noPid].sort());
    expect(getRunRecord(db, dead)).toMatchObject({ status: 'interrupted', pid: null, finishedAt: 9 });
    expect(getRunRecord(db, dead).statusReason).toBe(
      'The process running it (pid 4242) stopped before the run finished; epochs 0-1 are kept. Queue it again to resume.',
    );
    expect(getRunRecord(db, alive).status).toBe('running');
    expect(getRunRecord(db, queued).status).toBe('queued');
    // The default liveness check: this process is alive, a pid far beyond pid_max is not.
    const mine = createRun(db, newRun()).id;
    setRunStatus(db, mine, 'running', { pid: process.pid });
    setRunStatus(db, alive, 'completed');
    const gone = createRun(db, newRun()).id;
    setRunStatus(db, gone, 'running', { pid: 2 ** 30 });
    expect(markInterruptedRuns(db)).toEqual([gone]);
  });
});

describe('epochs, samples, artifacts', () => {
  it('recordEpoch writes the epoch and class APs together, only while running, and tracks last/best', () => {
    const id = createRun(db, newRun()).id;
    expect(() => recordEpoch(db, id, epoch(0))).toThrow(/is queued; epochs are recorded only while it runs/);
    setRunStatus(db, id, 'running', { pid: 1 });
    const ap = {
      classId: 0,
      name: 'person',
      images: 61,
      instances: 254,
      precision: 0.7,
      recall: 0.6,
      ap50: 0.7,
      ap50_95: 0.45,
    };
    recordEpoch(db, id, epoch(0, { map50_95: 0.3, map50: 0.5, fitness: 0.32 }), [ap]);
    recordEpoch(db, id, epoch(1, { map50_95: 0.2, map50: 0.4, fitness: 0.22 }), [{ ...ap, ap50: 0.5 }]);
    expect(getRunRecord(db, id)).toMatchObject({ lastEpochDone: 1, bestEpoch: 0, bestFitness: 0.32 });
    // Recording epoch 0 again (a resume) replaces it, and the best moves accordingly.
    recordEpoch(db, id, epoch(0, { map50_95: 0.1, map50: 0.2, fitness: 0.11 }), []);
    expect(getRunRecord(db, id)).toMatchObject({ lastEpochDone: 1, bestEpoch: 1, bestFitness: 0.22 });
    expect(epochsOf(db, id).map((e) => e.map50_95)).toEqual([0.1, 0.2]);
    expect(getRun(db, id).classAp).toEqual([{ ...ap, ap50: 0.5 }]);
    // A failing class AP (class id duplicated) rolls the epoch row back too.
    expect(() => recordEpoch(db, id, epoch(2), [ap, ap])).toThrow(/UNIQUE/);
    expect(epochsOf(db, id)).toHaveLength(2);
    expect(getRunRecord(db, id).lastEpochDone).toBe(1);
  });

  it('samplesOf downsamples to at most N points per time bucket and keeps the peaks', () => {
    const id = runIn('running');
    const samples: ResourceSample[] = [];
    for (let i = 0; i < 1000; i++) {
      samples.push({
        tMs: 1_000_000 + i * 100,
        tensorBytes: i === 537 ? 9_999_999 : 1000 + (i % 10),
        rssBytes: 5000,
        gpuMemUsedBytes: null,
        gpuUtil: null,
        processGpuMemBytes: null,
      });
    }
    expect(addSamples(db, id, samples)).toBe(1000);
    expect(samplesOf(db, id, { maxPoints: 2000 })).toHaveLength(1000);
    const down = samplesOf(db, id, { maxPoints: 50 });
    expect(down.length).toBeLessThanOrEqual(50);
    expect(down.length).toBeGreaterThanOrEqual(45);
    expect(down[0]?.tMs).toBe(1_000_000);
    const times = down.map((s) => s.tMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.max(...down.map((s) => s.tensorBytes!))).toBe(9_999_999);
    expect(down.every((s) => s.gpuMemUsedBytes === null && s.rssBytes === 5000)).toBe(true);
    expect(samplesOf(db, 12345)).toEqual([]);
  });

  it('notes are kept in order, once each, cut when very long; a missing run is refused', () => {
    const id = runIn('running');
    addRunNote(db, id, 'info', 'AutoAnchor at img 320: the anchors fit the labels.', 10);
    addRunNote(db, id, 'warning', 'micro-batches of 4', 11);
    addRunNote(db, id, 'warning', 'micro-batches of 4', 12); // a resumed run says it again
    addRunNote(db, id, 'warning', 'x'.repeat(NOTE_MAX_CHARS + 10), 13);
    const notes = getRun(db, id).notes;
    expect(notes.map((n) => [n.createdAt, n.level])).toEqual([
      [10, 'info'],
      [11, 'warning'],
      [13, 'warning'],
    ]);
    expect(notes[2]!.message).toHaveLength(NOTE_MAX_CHARS);
    expect(notes[2]!.message.endsWith('…')).toBe(true);
    expect(() => addRunNote(db, 999_999, 'info', 'x')).toThrow(RunNotFoundError);
  });

  it('best/last artifacts replace themselves, exports accumulate, and deleteRun cascades', () => {
    const id = runIn('running');
    addRunNote(db, id, 'info', 'a note');
    recordEpoch(db, id, epoch(0));
    addSamples(db, id, [
      { tMs: 1, tensorBytes: 1, rssBytes: 1, gpuMemUsedBytes: null, gpuUtil: null, processGpuMemBytes: null },
    ]);
    addArtifact(db, id, { kind: 'best', path: '/r/best-e0', epoch: 0 });
    addArtifact(db, id, { kind: 'best', path: '/r/best-e1', epoch: 1 });
    addArtifact(db, id, { kind: 'export', path: '/r/model-a' });
    addArtifact(db, id, { kind: 'export', path: '/r/model-b' });
    expect(getRun(db, id).artifacts.map((a) => a.path)).toEqual(['/r/best-e1', '/r/model-a', '/r/model-b']);
    expect(() => deleteRun(db, id)).toThrow(/is running/);
    setRunStatus(db, id, 'completed');
    saveEvaluation(db, id, { weights: 'best', split: 'val', result: { map50: 0.5 } as EvalResult });
    expect(deleteRun(db, id).sort()).toEqual(['/r/best-e1', '/r/model-a', '/r/model-b']);
    expect(() => getRun(db, id)).toThrow(RunNotFoundError);
    for (const t of ['epochs', 'samples', 'artifacts', 'evaluations', 'class_ap', 'run_notes']) {
      expect(db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get(), t).toEqual({ n: 0 });
    }
    // Ids are never reused, so a run folder named after an id cannot be inherited.
    expect(createRun(db, newRun()).id).toBeGreaterThan(id);
  });
});

describe('lists and comparison', () => {
  it('listRuns is newest first with last and best metrics; runsOfSweep keeps creation order', () => {
    const sweep = createSweep(db, { name: 'presets', config: { presets: ['none', 'backbone'] } });
    const a = createRun(db, newRun({ name: 'none', sweepId: sweep.id }), 100).id;
    const b = createRun(db, newRun({ name: 'backbone', sweepId: sweep.id, freezeSpec: 'backbone' }), 200).id;
    const c = createRun(db, newRun({ name: 'alone' }), 300).id;
    setRunStatus(db, a, 'running', { pid: 1 });
    recordEpoch(db, a, epoch(0, { map50_95: 0.4, fitness: 0.5 }));
    recordEpoch(db, a, epoch(1, { map50_95: 0.3, fitness: 0.4 }));
    const list = listRuns(db);
    expect(list.map((r) => r.run.id)).toEqual([c, b, a]);
    expect(list[2]).toMatchObject({ last: { epoch: 1, map50_95: 0.3 }, best: { epoch: 0, map50_95: 0.4 } });
    expect(list[0]).toMatchObject({ last: null, best: null });
    expect(listRuns(db, { status: 'running' }).map((r) => r.run.id)).toEqual([a]);
    expect(listRuns(db, { limit: 1 }).map((r) => r.run.id)).toEqual([c]);
    expect(runsOfSweep(db, sweep.id).map((r) => r.run.name)).toEqual(['none', 'backbone']);
  });

  it('comparisonRows reads rows from the store (model info set after the model is built)', () => {
    const id = createRun(db, newRun({ freezeSpec: '10', frozenModules: [] })).id;
    setRunStatus(db, id, 'running', { pid: 1 });
    expect(comparisonRows(db, [id])[0]?.freezeLabel).toBe('freeze 10'); // not resolved yet
    setRunModelInfo(db, id, { frozenModules: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], trainableParams: 500, totalParams: 1000 });
    recordEpoch(db, id, epoch(0, { seconds: 10, peakGpuMemBytes: 3000 }));
    recordEpoch(db, id, epoch(1, { seconds: 20, peakGpuMemBytes: 2000 }));
    const [row] = comparisonRows(db, [id]);
    expect(row).toMatchObject({
      runId: id,
      freezeLabel: 'modules 0-9',
      secondsPerEpoch: 15,
      peakMemoryBytes: 3000,
      peakMemoryKind: 'gpu',
      trainableParams: 500,
    });
    expect(() => comparisonRows(db, [id, 999])).toThrow(RunNotFoundError);
  });
});
