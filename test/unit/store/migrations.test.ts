import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { userVersion } from '../../../src/main/store/db.js';
import {
  LATEST_SCHEMA_VERSION,
  StoreNewerVersionError,
  StoreNotDatabaseError,
  StoreUnavailableError,
  FREEZELAB_APPLICATION_ID,
  databaseId,
  markInterruptedRuns,
  runOwner,
  getRun,
  listRuns,
  migrate,
  openStore,
} from '../../../src/main/store/index.js';
import { MIGRATIONS, MigrationOrderError } from '../../../src/main/store/migrations/index.js';
import type { Db } from '../../../src/main/store/db.js';
import { tempDir } from './fixtures.js';

let dirs: string[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/**
 * Data written with the SQL of each old version (never with today's query functions, which target
 * the latest schema): after migrating, it must all still be there.
 */
const SEEDS: Record<number, (db: Db) => void> = {
  0: () => {},
  1: (db) => {
    db.exec(`
      INSERT INTO sweeps (id, created_at, name, config_json) VALUES (1, 100, 'presets', '{"presets":["none","backbone"]}');
      INSERT INTO runs (id, created_at, name, sweep_id, status, status_reason, config_json, dataset_path, model,
        img_size, batch, epochs, freeze_spec, frozen_modules_json, bn_policy, last_epoch_done, best_fitness)
      VALUES (7, 101, 'backbone run', 1, 'completed', NULL, '{"freeze":"backbone"}', '/d/coco128.yaml', 'yolov5n',
        320, 8, 3, 'backbone', '[0,1,2,3,4,5,6,7,8,9]', 'freeze', 2, 0.31);
      INSERT INTO epochs (run_id, epoch, map50, map50_95, fitness, seconds, peak_tensor_bytes)
      VALUES (7, 0, 0.40, 0.25, 0.265, 12.5, 1000), (7, 1, 0.50, 0.30, 0.32, 11.0, 1100),
             (7, 2, 0.50, 0.30, 0.32, 11.5, 1050);
      INSERT INTO class_ap VALUES (7, 1, 0, 'person', 61, 254, 0.7, 0.6, 0.71, 0.45);
      INSERT INTO samples VALUES (7, 5000, 1000, 2000, NULL, NULL, NULL);
      INSERT INTO artifacts (run_id, kind, path, sha256, bytes, epoch, created_at)
      VALUES (7, 'best', '/runs/7/best.safetensors', NULL, 4000000, 1, 102);
      INSERT INTO evaluations (run_id, created_at, weights, split, map50, map50_95, result_json)
      VALUES (7, 103, 'best', 'val', 0.5, 0.3, '{"map50":0.5}');
    `);
  },
  // v2 has runs.best_epoch; the same data with it set.
  2: (db) => {
    SEEDS[1]!(db);
    db.exec('UPDATE runs SET best_epoch = 1 WHERE id = 7');
  },
  // v3 has run_notes; a running run (of an old build, which recorded only its pid) and a note.
  3: (db) => {
    SEEDS[2]!(db);
    db.exec(`
      INSERT INTO runs (id, created_at, name, status, config_json, dataset_path, model, img_size, batch, epochs,
        freeze_spec, bn_policy, pid, started_at)
      VALUES (8, 104, 'left running', 'running', '{}', '/d/coco128.yaml', 'yolov5n', 320, 8, 3, 'none', 'update',
        4242, 105);
      INSERT INTO run_notes (run_id, created_at, level, message) VALUES (7, 106, 'info', 'AutoAnchor fits');
    `);
  },
  // v4 records owners and who queued a run; a queued run of a live process.
  4: (db) => {
    SEEDS[3]!(db);
    db.exec(`
      INSERT INTO runs (id, created_at, name, status, config_json, dataset_path, model, img_size, batch, epochs,
        freeze_spec, bn_policy, queued_by_json)
      VALUES (9, 107, 'waiting', 'queued', '{}', '/d/coco128.yaml', 'yolov5n', 320, 8, 3, 'none', 'update',
        '{"pid":1,"host":"h","startedAt":1,"at":107}');
    `);
  },
};

describe('migrations', () => {
  it('has one step per version, and a seed for every version before the latest', () => {
    expect(LATEST_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(MIGRATIONS).toHaveLength(LATEST_SCHEMA_VERSION);
    for (let v = 0; v < LATEST_SCHEMA_VERSION; v++) expect(SEEDS[v], `seed for v${v}`).toBeDefined();
  });

  it('creates the latest schema from nothing, with the folder, STRICT tables, WAL and foreign keys', () => {
    const file = path.join(dir(), 'nested', 'deeper', 'freezelab.db');
    const db = openStore(file);
    expect(userVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    const tables = db
      .prepare("SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'")
      .all();
    expect(tables.map((t) => (t as { name: string }).name).sort()).toEqual([
      'artifacts',
      'class_ap',
      'cluster_jobs',
      'epochs',
      'evaluations',
      'run_notes',
      'runs',
      'samples',
      'store_meta',
      'sweeps',
    ]);
    // v4: the header says FreezeLab, and the file has its own UUID for its run folders.
    expect(db.pragma('application_id', { simple: true })).toBe(FREEZELAB_APPLICATION_ID);
    expect(databaseId(db)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const t of tables) expect(t, JSON.stringify(t)).toMatchObject({ strict: 1 });
    // STRICT really refuses a wrong type.
    expect(() =>
      db.prepare("INSERT INTO sweeps (created_at, name, config_json) VALUES ('yesterday', 'x', '{}')").run(),
    ).toThrow(/cannot store TEXT value in INTEGER column/);
    db.close();
    // Opening again is a no-op migration.
    const again = openStore(file);
    expect(migrate(again, file)).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
    again.close();
  });

  const uuids = new Set<string>();
  for (let v = 0; v < LATEST_SCHEMA_VERSION; v++) {
    it(`migrates a v${v} database with data to the latest version, keeping the data`, () => {
      const file = path.join(dir(), `v${v}.db`);
      const old = openStore(file, { upToVersion: v });
      expect(userVersion(old)).toBe(v);
      SEEDS[v]!(old);
      old.close();

      const db = openStore(file);
      expect(userVersion(db)).toBe(LATEST_SCHEMA_VERSION);
      if (v === 0) {
        expect(listRuns(db)).toEqual([]);
      } else {
        const detail = getRun(db, 7);
        expect(detail.run).toMatchObject({ name: 'backbone run', sweepId: 1, status: 'completed', lastEpochDone: 2 });
        expect(detail.run.frozenModules).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(detail.epochs.map((e) => e.seconds)).toEqual([12.5, 11.0, 11.5]);
        expect(detail.artifacts.map((a) => a.path)).toEqual(['/runs/7/best.safetensors']);
        expect(detail.evaluation?.result).toEqual({ map50: 0.5 });
        // v2 backfills best_epoch: the earliest epoch of the highest fitness (1, not the tied 2),
        // which is what the runs list joins to show the best metrics.
        expect(detail.run.bestEpoch).toBe(1);
        expect(detail.classAp.map((c) => c.name)).toEqual(['person']);
        expect(listRuns(db).find((s) => s.run.id === 7)?.best).toMatchObject({ epoch: 1, map50_95: 0.3 });
        expect(db.prepare('SELECT COUNT(*) AS n FROM samples').get()).toEqual({ n: 1 });
        // v3 adds run notes.
        expect(detail.notes.map((n) => n.message)).toEqual(v >= 3 ? ['AutoAnchor fits'] : []);
      }
      // v4: an application id and a UUID for every migrated file, different for each file.
      expect(db.pragma('application_id', { simple: true })).toBe(FREEZELAB_APPLICATION_ID);
      uuids.add(databaseId(db));
      expect(uuids.size).toBe(v + 1);
      // v5: every run and sweep has a UUID (what an import of a shard recognises rows by).
      const runUuids = db.prepare('SELECT uuid FROM runs').all() as { uuid: string | null }[];
      const sweepUuids = db.prepare('SELECT uuid FROM sweeps').all() as { uuid: string | null }[];
      for (const r of [...runUuids, ...sweepUuids]) expect(r.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Set(runUuids.map((r) => r.uuid)).size).toBe(runUuids.length);
      if (v === 3) {
        // An old build's running run has no owner host: nothing that can open schema 4 runs it.
        expect(runOwner(db, 8)).toEqual({ pid: 4242, host: null, startedAt: null, heartbeatAt: null });
        expect(markInterruptedRuns(db)).toEqual([8]);
      }
      db.close();
    });
  }

  it('refuses a database written by a newer FreezeLab, naming the file and both versions', () => {
    const file = path.join(dir(), 'future.db');
    const raw = new Database(file);
    raw.pragma('user_version = 7');
    raw.close();
    let caught: unknown;
    try {
      openStore(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreNewerVersionError);
    expect((caught as Error).message).toBe(
      `${file} was written by a newer FreezeLab (schema 7, this build knows ${LATEST_SCHEMA_VERSION}): ` +
        'update FreezeLab or use --db for another file',
    );
    expect(() => openStore(file, { readonly: true })).toThrow(StoreNewerVersionError);
    // The file was not touched.
    const check = new Database(file, { readonly: true });
    expect(userVersion(check)).toBe(7);
    check.close();
  });

  it('refuses a file that is not a SQLite database, saying which file', () => {
    const file = path.join(dir(), 'notes.db');
    fs.writeFileSync(file, 'these are my notes, not a database\n'.repeat(20));
    expect(() => openStore(file)).toThrow(StoreNotDatabaseError);
    expect(() => openStore(file)).toThrow(`${file} is not a FreezeLab database`);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^these are my notes/);
  });

  it('refuses a file with a SQLite header but a damaged body', () => {
    const file = path.join(dir(), 'damaged.db');
    const good = openStore(file);
    good.close();
    const bytes = fs.readFileSync(file);
    bytes.fill(0xab, 16, 100); // page size and header fields become nonsense
    fs.writeFileSync(file, bytes);
    fs.rmSync(`${file}-wal`, { force: true });
    fs.rmSync(`${file}-shm`, { force: true });
    expect(() => openStore(file)).toThrow(StoreNotDatabaseError);
  });

  it('read-only: refuses a missing file and an old schema instead of changing anything', () => {
    const d = dir();
    expect(() => openStore(path.join(d, 'missing', 'x.db'), { readonly: true })).toThrow(StoreUnavailableError);
    expect(fs.existsSync(path.join(d, 'missing'))).toBe(false);
    const file = path.join(d, 'old.db');
    openStore(file, { upToVersion: 1 }).close();
    expect(() => openStore(file, { readonly: true })).toThrow(/uses schema 1; this build needs/);
    openStore(file).close();
    const ro = openStore(file, { readonly: true });
    expect(listRuns(ro)).toEqual([]);
    expect(() => ro.prepare('DELETE FROM runs').run()).toThrow(/readonly/);
    ro.close();
  });

  it('checks that a step moves the version up', () => {
    const file = path.join(dir(), 'bad-step.db');
    const db = openStore(file, { upToVersion: 0 });
    // A step that "forgets" to set user_version must be caught, not loop or silently pass.
    const saved = MIGRATIONS[0]!;
    (MIGRATIONS as ((db: Db) => void)[])[0] = () => {};
    try {
      expect(() => migrate(db, file)).toThrow(MigrationOrderError);
    } finally {
      (MIGRATIONS as ((db: Db) => void)[])[0] = saved;
    }
    db.close();
  });
});
