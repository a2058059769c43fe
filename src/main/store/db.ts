/** The database handle type every store function takes. */
import type Database from 'better-sqlite3';

/** An open FreezeLab store (a better-sqlite3 connection). Queries are plain `(db, ...args)` functions. */
export type Db = Database.Database;

/** Reads `PRAGMA user_version`, the schema version of the file. */
export function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
