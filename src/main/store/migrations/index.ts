/**
 * Schema migrations, one function per version (the Signal-Desktop pattern): each runs in its own
 * IMMEDIATE transaction, re-reads `PRAGMA user_version` inside it (so two processes opening the
 * same file cannot both apply a step) and sets the new version as its last statement.
 */
import type { Db } from '../db.js';
import { userVersion } from '../db.js';
import { StoreNewerVersionError } from '../errors.js';
import { updateToSchemaVersion1 } from './v1.js';
import { updateToSchemaVersion2 } from './v2.js';
import { updateToSchemaVersion3 } from './v3.js';

/** `MIGRATIONS[i]` brings a database to version `i + 1`. Append only; never edit a shipped step. */
export const MIGRATIONS: readonly ((db: Db) => void)[] = [
  updateToSchemaVersion1,
  updateToSchemaVersion2,
  updateToSchemaVersion3,
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
  const from = userVersion(db);
  if (from > LATEST_SCHEMA_VERSION) throw new StoreNewerVersionError(file, from, LATEST_SCHEMA_VERSION);
  let current = from;
  for (let i = 0; i < Math.min(upTo, MIGRATIONS.length); i++) {
    const target = i + 1;
    if (current >= target) continue;
    MIGRATIONS[i]!(db);
    const after = userVersion(db);
    if (after !== target || after <= current) throw new MigrationOrderError(target, current, after);
    current = after;
  }
  return { from, to: current };
}
