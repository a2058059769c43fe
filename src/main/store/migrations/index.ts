/**
 * Schema migrations, one function per version (the Signal-Desktop pattern): each runs in its own
 * IMMEDIATE transaction, re-reads `PRAGMA user_version` inside it (so two processes opening the
 * same file cannot both apply a step) and sets the new version as its last statement. `migrate`
 * runs all the steps inside one EXCLUSIVE transaction, so processes opening a new file at once wait
 * (busy_timeout) for the first one to finish, then find nothing left to do.
 */
import type { Db } from '../db.js';
import { userVersion } from '../db.js';
import { StoreNewerVersionError } from '../errors.js';
import { updateToSchemaVersion1 } from './v1.js';
import { updateToSchemaVersion2 } from './v2.js';
import { updateToSchemaVersion3 } from './v3.js';
import { updateToSchemaVersion4 } from './v4.js';
import { updateToSchemaVersion5 } from './v5.js';

/** `MIGRATIONS[i]` brings a database to version `i + 1`. Append only; never edit a shipped step. */
export const MIGRATIONS: readonly ((db: Db) => void)[] = [
  updateToSchemaVersion1,
  updateToSchemaVersion2,
  updateToSchemaVersion3,
  updateToSchemaVersion4,
  updateToSchemaVersion5,
];

/** The schema version this build writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/** A migration step did not move the version forward: a bug in the step, never a user error. */
export class MigrationOrderError extends Error {
  constructor(step: number, before: number, after: number) {
    super(`Schema migration ${step} went from version ${before} to ${after}; versions must only go up.`);
    this.name = 'MigrationOrderError';
  }
}

/**
 * Brings `db` up to `upTo` (default: the latest version). Refuses a file from a newer build.
 * `file` only names the database in messages. Returns the versions before and after.
 */
export function migrate(
  db: Db,
  file: string,
  upTo: number = LATEST_SCHEMA_VERSION,
): { readonly from: number; readonly to: number } {
  const target = Math.min(upTo, MIGRATIONS.length);
  const unlocked = userVersion(db);
  if (unlocked > LATEST_SCHEMA_VERSION) throw new StoreNewerVersionError(file, unlocked, LATEST_SCHEMA_VERSION);
  // Up to date: no lock needed, so every open after the first stays a plain read.
  if (unlocked >= target) return { from: unlocked, to: unlocked };
  const own = !db.inTransaction;
  if (own) db.exec('BEGIN EXCLUSIVE');
  try {
    // Read again under the lock: another process may have migrated while we waited for it.
    const from = userVersion(db);
    if (from > LATEST_SCHEMA_VERSION) throw new StoreNewerVersionError(file, from, LATEST_SCHEMA_VERSION);
    let current = from;
    for (let i = 0; i < target; i++) {
      const step = i + 1;
      if (current >= step) continue;
      MIGRATIONS[i]!(db);
      const after = userVersion(db);
      if (after !== step || after <= current) throw new MigrationOrderError(step, current, after);
      current = after;
    }
    if (own) db.exec('COMMIT');
    return { from, to: current };
  } catch (error) {
    if (own && db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
