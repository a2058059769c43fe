/** What a run said about itself while it trained: AutoAnchor's outcome, micro-batches, warnings. */
import type { RunNote, RunNoteLevel } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { RunNotFoundError } from '../errors.js';

/** Longest note kept; a longer message is cut with an ellipsis (messages are sentences, not logs). */
export const NOTE_MAX_CHARS = 4000;

export const NOTE_SQL = {
  ofRun: 'SELECT created_at, level, message FROM run_notes WHERE run_id = ? ORDER BY id',
  same: 'SELECT 1 FROM run_notes WHERE run_id = ? AND message = ?',
} as const;

interface NoteRow {
  created_at: number;
  level: RunNoteLevel;
  message: string;
}

/** Records a note; the same message twice for one run is kept once (a resumed run repeats its set-up). */
export function addRunNote(db: Db, runId: number, level: RunNoteLevel, message: string, now = Date.now()): void {
  const text = message.length > NOTE_MAX_CHARS ? `${message.slice(0, NOTE_MAX_CHARS - 1)}…` : message;
  db.transaction(() => {
    if (!db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) throw new RunNotFoundError(runId);
    if (db.prepare(NOTE_SQL.same).get(runId, text)) return;
    db.prepare('INSERT INTO run_notes (run_id, created_at, level, message) VALUES (?, ?, ?, ?)').run(
      runId,
      now,
      level,
      text,
    );
  }).immediate();
}

/** A run's notes, oldest first. */
export function notesOf(db: Db, runId: number): RunNote[] {
  return (
    db.prepare('SELECT created_at, level, message FROM run_notes WHERE run_id = ? ORDER BY id').all(runId) as NoteRow[]
  ).map((r) => ({ createdAt: r.created_at, level: r.level, message: r.message }));
}
