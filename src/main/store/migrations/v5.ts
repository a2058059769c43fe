/**
 * Schema version 5: runs trained elsewhere (a Slurm cluster) and brought home. Runs and sweeps get
 * a UUID, backfilled for existing rows, so importing a database shard twice finds the rows it
 * already brought in; `cluster_jobs` records which runs were submitted to a cluster (the Slurm job
 * array task, the sweep folder, the task's shard) and the scheduler's last word on them. The
 * run's own `status` keeps following the lifecycle of shared/runs.ts; the Slurm state is beside it.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db.js';
import { userVersion } from '../db.js';

export const VERSION = 5;

export function updateToSchemaVersion5(db: Db): void {
  db.transaction(() => {
    if (userVersion(db) >= VERSION) return;
    db.exec(`
      ALTER TABLE runs ADD COLUMN uuid TEXT;
      ALTER TABLE sweeps ADD COLUMN uuid TEXT;
      CREATE TABLE cluster_jobs (
        run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        scheduler TEXT NOT NULL CHECK (scheduler IN ('slurm')),
        job_id TEXT NOT NULL,
        array_task INTEGER NOT NULL CHECK (array_task >= 0),
        sweep_dir TEXT NOT NULL,
        shard_path TEXT NOT NULL,
        log_path TEXT,
        state TEXT NOT NULL,
        reason TEXT,
        exit_code TEXT,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX cluster_jobs_by_job ON cluster_jobs(job_id, array_task);
    `);
    const runs = db.prepare('SELECT id FROM runs').all() as { id: number }[];
    const setRun = db.prepare('UPDATE runs SET uuid = ? WHERE id = ?');
    for (const r of runs) setRun.run(randomUUID(), r.id);
    const sweeps = db.prepare('SELECT id FROM sweeps').all() as { id: number }[];
    const setSweep = db.prepare('UPDATE sweeps SET uuid = ? WHERE id = ?');
    for (const s of sweeps) setSweep.run(randomUUID(), s.id);
    db.exec(`
      CREATE UNIQUE INDEX runs_by_uuid ON runs(uuid);
      CREATE UNIQUE INDEX sweeps_by_uuid ON sweeps(uuid);
    `);
    db.pragma(`user_version = ${VERSION}`);
  }).immediate();
}
