/** What makes a SQLite file a FreezeLab database, and which one it is. */
import type { Db } from './db.js';

/** `PRAGMA application_id` of FreezeLab files: 'FZLB' in ASCII. */
export const FREEZELAB_APPLICATION_ID = 0x465a4c42;

/** The tables FreezeLab creates; a file holding any other table is not ours. */
export const FREEZELAB_TABLES: ReadonlySet<string> = new Set([
  'sweeps',
  'runs',
  'epochs',
  'class_ap',
  'samples',
  'artifacts',
  'evaluations',
  'run_notes',
  'store_meta',
  'cluster_jobs',
]);

/** The database's UUID (schema 4+): run folders are keyed by it so two databases never share one. */
export function databaseId(db: Db): string {
  const row = db.prepare("SELECT value FROM store_meta WHERE key = 'db_uuid'").get() as { value: string } | undefined;
  if (!row) throw new Error('The database has no UUID; it was not migrated to schema 4.');
  return row.value;
}
