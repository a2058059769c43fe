/** Files a run produced: best/last checkpoints and exports. */
import type { Artifact, ArtifactKind } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { RunNotFoundError } from '../errors.js';
import { int, toArtifact, type ArtifactRow } from './rows.js';

/**
 * Records an artifact. `best` and `last` are one file each, overwritten as training goes on, so a
 * new row of those kinds replaces the previous one; exports accumulate.
 */
export function addArtifact(
  db: Db,
  runId: number,
  a: { kind: ArtifactKind; path: string; sha256?: string | null; bytes?: number | null; epoch?: number | null },
  now: number = Date.now(),
): Artifact {
  return db
    .transaction(() => {
      if (!db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) throw new RunNotFoundError(runId);
      if (a.kind !== 'export') db.prepare('DELETE FROM artifacts WHERE run_id = ? AND kind = ?').run(runId, a.kind);
      const info = db
        .prepare(
          'INSERT INTO artifacts (run_id, kind, path, sha256, bytes, epoch, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(runId, a.kind, a.path, a.sha256 ?? null, int(a.bytes), int(a.epoch), now);
      return toArtifact(db.prepare('SELECT * FROM artifacts WHERE id = ?').get(info.lastInsertRowid) as ArtifactRow);
    })
    .immediate();
}

/** A run's artifacts, oldest first. */
export function artifactsOf(db: Db, runId: number): Artifact[] {
  return (db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY id').all(runId) as ArtifactRow[]).map(
    toArtifact,
  );
}
