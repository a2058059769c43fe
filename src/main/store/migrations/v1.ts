/**
 * Schema version 1: runs, sweeps, epochs, per-class AP, resource samples, artifacts and final
 * evaluations. STRICT tables; foreign keys cascade so deleting a run removes everything it owns.
 */
import type { Db } from '../db.js';
import { userVersion } from '../db.js';

export const VERSION = 1;

const SCHEMA = `
CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  name TEXT NOT NULL,
  config_json TEXT NOT NULL CHECK (json_valid(config_json))
) STRICT;

-- AUTOINCREMENT: a deleted run's id (and so its folder name) is never reused.
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  name TEXT NOT NULL,
  sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL,
  status TEXT NOT NULL
    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
  status_reason TEXT,
  config_json TEXT NOT NULL CHECK (json_valid(config_json)),
  dataset_path TEXT NOT NULL,
  dataset_fingerprint TEXT,
  weights_path TEXT,
  weights_sha256 TEXT,
  model TEXT NOT NULL,
  img_size INTEGER NOT NULL CHECK (img_size > 0),
  batch INTEGER NOT NULL CHECK (batch > 0),
  epochs INTEGER NOT NULL CHECK (epochs > 0),
  freeze_spec TEXT NOT NULL,
  frozen_modules_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(frozen_modules_json)),
  bn_policy TEXT NOT NULL CHECK (bn_policy IN ('update', 'freeze')),
  hyp_name TEXT,
  backend TEXT,
  trainable_params INTEGER,
  total_params INTEGER,
  seed INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER,
  finished_at INTEGER,
  pid INTEGER,
  last_epoch_done INTEGER NOT NULL DEFAULT -1,
  best_fitness REAL
) STRICT;
CREATE INDEX runs_by_sweep ON runs(sweep_id, created_at);
CREATE INDEX runs_by_status ON runs(status, created_at);

CREATE TABLE epochs (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL CHECK (epoch >= 0),
  box_loss REAL,
  obj_loss REAL,
  cls_loss REAL,
  lr0 REAL,
  lr1 REAL,
  lr2 REAL,
  precision REAL,
  recall REAL,
  map50 REAL,
  map50_95 REAL,
  fitness REAL,
  seconds REAL NOT NULL,
  images_per_second REAL,
  peak_tensor_bytes INTEGER,
  peak_rss_bytes INTEGER,
  peak_gpu_mem_bytes INTEGER
) STRICT;
CREATE UNIQUE INDEX epochs_by_run ON epochs(run_id, epoch);

CREATE TABLE class_ap (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  class_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  images INTEGER NOT NULL,
  instances INTEGER NOT NULL,
  p REAL NOT NULL,
  r REAL NOT NULL,
  ap50 REAL NOT NULL,
  ap50_95 REAL NOT NULL
) STRICT;
CREATE UNIQUE INDEX class_ap_by_run ON class_ap(run_id, epoch, class_id);

CREATE TABLE samples (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  t_ms INTEGER NOT NULL,
  tensor_bytes INTEGER,
  rss_bytes INTEGER,
  gpu_mem_used_bytes INTEGER,
  gpu_util REAL,
  process_gpu_mem_bytes INTEGER
) STRICT;
CREATE INDEX samples_by_run ON samples(run_id, t_ms);

CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('best', 'last', 'export')),
  path TEXT NOT NULL,
  sha256 TEXT,
  bytes INTEGER,
  epoch INTEGER,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX artifacts_by_run ON artifacts(run_id);

-- Final evaluation of a run's weights; result_json is an EvalResult (PR curves, confusion matrix).
CREATE TABLE evaluations (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  weights TEXT NOT NULL CHECK (weights IN ('best', 'last')),
  split TEXT NOT NULL,
  map50 REAL,
  map50_95 REAL,
  result_json TEXT NOT NULL CHECK (json_valid(result_json))
) STRICT;
CREATE INDEX evaluations_by_run ON evaluations(run_id, created_at);
`;

/** Creates the v1 schema on an empty database (no-op when the file is already at v1 or later). */
export function updateToSchemaVersion1(db: Db): void {
  db.transaction(() => {
    if (userVersion(db) >= VERSION) return;
    db.exec(SCHEMA);
    db.pragma(`user_version = ${VERSION}`);
  }).immediate();
}
