/**
 * Schema version 2: `runs.best_epoch`, so lists and comparisons can join the best epoch's metrics
 * directly (v1 only kept `best_fitness`), backfilled from recorded epochs; and an index for the
 * runs list, which is ordered by creation time.
 */
import type { Db } from '../db.js';
import { userVersion } from '../db.js';

export const VERSION = 2;

export function updateToSchemaVersion2(db: Db): void {
  db.transaction(() => {
    if (userVersion(db) >= VERSION) return;
    db.exec(`
      ALTER TABLE runs ADD COLUMN best_epoch INTEGER;
      -- YOLOv5 keeps the earliest epoch of the best fitness (train.py: fi > best_fitness).
      UPDATE runs SET
        best_epoch = (SELECT epoch FROM epochs WHERE epochs.run_id = runs.id AND fitness IS NOT NULL
                      ORDER BY fitness DESC, epoch ASC LIMIT 1),
        best_fitness = (SELECT MAX(fitness) FROM epochs WHERE epochs.run_id = runs.id);
      CREATE INDEX runs_by_created ON runs(created_at);
    `);
    db.pragma(`user_version = ${VERSION}`);
  }).immediate();
}
