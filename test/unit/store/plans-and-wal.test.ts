import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/main/store/db.js';
import { createRun, listRuns, openStore, recordEpoch, setRunStatus } from '../../../src/main/store/index.js';
import { EPOCH_SQL } from '../../../src/main/store/queries/epochs.js';
import { NOTE_SQL } from '../../../src/main/store/queries/notes.js';
import { RUN_LIST_SQL } from '../../../src/main/store/queries/runs.js';
import { SAMPLE_SQL } from '../../../src/main/store/queries/samples.js';
import { STATUS_SQL } from '../../../src/main/store/queries/status.js';
import { epoch, newRun, tempDir } from './fixtures.js';

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

function plan(sql: string): string[] {
  const params = Array<number>((sql.match(/\?/g) ?? []).length).fill(1);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
}

describe('query plans of the hot queries', () => {
  // [query, table alias as it appears in the plan, index it must use]
  const cases: [string, string, string, string][] = [
    ['epochs of a run', EPOCH_SQL.ofRun, 'epochs', 'epochs_by_run'],
    ['class AP of an epoch', EPOCH_SQL.classAp, 'class_ap', 'class_ap_by_run'],
    ['samples of a run, by time', SAMPLE_SQL.all, 'samples', 'samples_by_run'],
    ['sample time range', SAMPLE_SQL.range, 'samples', 'samples_by_run'],
    ['downsampled samples', SAMPLE_SQL.buckets, 'samples', 'samples_by_run'],
    ['runs of a sweep', RUN_LIST_SQL.bySweep, 'r', 'runs_by_sweep'],
    ['runs by status', RUN_LIST_SQL.byStatus, 'r', 'runs_by_status'],
    ['running runs at startup', STATUS_SQL.running, 'runs', 'runs_by_status'],
    ['claim the next queued run', STATUS_SQL.claimNext, 'runs', 'runs_by_status'],
    ['queued runs a runner may start', STATUS_SQL.queued, 'runs', 'runs_by_status'],
    ['runs list, newest first', RUN_LIST_SQL.all, 'r', 'runs_by_created'],
    ['notes of a run', NOTE_SQL.ofRun, 'run_notes', 'run_notes_by_run'],
    ['a note already recorded', NOTE_SQL.same, 'run_notes', 'run_notes_by_run'],
  ];

  beforeEach(() => {
    // Some data and statistics, so the planner decides as it would on a real file.
    db.transaction(() => {
      for (let i = 0; i < 30; i++) {
        const id = createRun(db, newRun(), i).id;
        setRunStatus(db, id, 'running', { pid: 1 });
        recordEpoch(db, id, epoch(0));
        if (i % 3) setRunStatus(db, id, 'completed');
      }
    })();
    db.exec('ANALYZE');
  });

  it.each(cases)('%s uses its index', (_name, sql, table, index) => {
    const steps = plan(sql);
    const uses = new RegExp(`^(SEARCH|SCAN) ${table} USING (COVERING )?INDEX ${index}\\b`);
    expect(
      steps.some((s) => uses.test(s)),
      steps.join(' | '),
    ).toBe(true);
    // A full table scan reads "SCAN <table>" with no index; an ordered index walk is fine.
    for (const s of steps) expect(s, s).not.toMatch(new RegExp(`^SCAN ${table}$`));
  });

  it('the list query joins last and best epochs through epochs_by_run', () => {
    const steps = plan(RUN_LIST_SQL.all);
    expect(steps.filter((s) => s.includes('USING INDEX epochs_by_run (run_id=? AND epoch=?)'))).toHaveLength(2);
  });
});

describe('WAL: a reader and a writer on the same file', () => {
  it('the reader sees the last committed state while a write transaction is open, without SQLITE_BUSY', () => {
    const file = path.join(dir, 'runs.db');
    const writer = db;
    const reader = openStore(file);
    try {
      const id = createRun(writer, newRun({ name: 'committed' })).id;
      setRunStatus(writer, id, 'running', { pid: 1 });

      writer.exec('BEGIN IMMEDIATE');
      recordEpoch(writer, id, epoch(0)); // nested: better-sqlite3 turns it into a savepoint
      createRun(writer, newRun({ name: 'uncommitted' }));
      // The reader is not blocked and sees neither the epoch nor the new run.
      const seen = listRuns(reader);
      expect(seen.map((r) => r.run.name)).toEqual(['committed']);
      expect(seen[0]?.last).toBeNull();
      writer.exec('COMMIT');

      const after = listRuns(reader);
      expect(after.map((r) => r.run.name).sort()).toEqual(['committed', 'uncommitted']);
      expect(after.find((r) => r.run.id === id)?.last?.epoch).toBe(0);
    } finally {
      reader.close();
    }
  });

  it('a read transaction keeps its snapshot while the writer commits', () => {
    const reader = openStore(path.join(dir, 'runs.db'));
    try {
      createRun(db, newRun({ name: 'first' }));
      const snapshot = reader.transaction(() => {
        const before = listRuns(reader).length;
        createRun(db, newRun({ name: 'second' })); // commits on the other connection meanwhile
        return [before, listRuns(reader).length];
      });
      expect(snapshot()).toEqual([1, 1]);
      expect(listRuns(reader)).toHaveLength(2);
    } finally {
      reader.close();
    }
  });
});
