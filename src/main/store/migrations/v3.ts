/**
 * Schema version 3: `run_notes`, what a run had to say about itself while it trained (AutoAnchor's
 * outcome, micro-batches on a backend with a memory ceiling, loader and hyp warnings), kept with
 * the run so its results can be read with them.
 */
import type { Db } from '../db.js';
import { userVersion } from '../db.js';

export const VERSION = 3;

export function updateToSchemaVersion3(db: Db): void {
  db.transaction(() => {
    if (userVersion(db) >= VERSION) return;
    db.exec(`
      CREATE TABLE run_notes (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('info', 'warning')),
        message TEXT NOT NULL
      ) STRICT;
      CREATE INDEX run_notes_by_run ON run_notes(run_id, id);
    `);
    db.pragma(`user_version = ${VERSION}`);
  }).immediate();
}
