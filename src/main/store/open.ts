/** Opening the run store: pragmas, file checks and migrations. */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from './db.js';
import { userVersion } from './db.js';
import { StoreNewerVersionError, StoreNotDatabaseError, StoreUnavailableError } from './errors.js';
import { LATEST_SCHEMA_VERSION, migrate } from './migrations/index.js';

export interface OpenStoreOptions {
  /** Open without writing: no folder creation, no migration, no journal-mode change. */
  readonly readonly?: boolean;
  /** Wait this long for another connection's write lock before failing with SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
  /** Migrate only up to this version (tests build old databases with it). */
  readonly upToVersion?: number;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Checks the 16-byte header so a wrong file fails with a clear message before SQLite sees it. */
function checkHeader(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return; // missing or unreadable: let SQLite report it
  }
  try {
    const head = Buffer.alloc(16);
    const n = fs.readSync(fd, head, 0, 16, 0);
    if (n === 0) return; // an empty file is a valid empty database
    if (n < 16 || head.toString('latin1') !== SQLITE_MAGIC) {
      throw new StoreNotDatabaseError(file, 'it does not start with the SQLite header');
    }
  } finally {
    fs.closeSync(fd);
  }
}

function isNotADb(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

/**
 * Opens (creating when needed, with its folder) the store at `file` and migrates it to the latest
 * schema. WAL journal so readers never block the writer, foreign keys on, a busy timeout so two
 * processes (app + CLI) wait for each other instead of failing. Throws `StoreNewerVersionError`
 * for a file from a newer build and `StoreNotDatabaseError` for a file that is not SQLite.
 */
export function openStore(file: string, options: OpenStoreOptions = {}): Db {
  const readonly = options.readonly ?? false;
  const resolved = path.resolve(file);
  if (readonly && !fs.existsSync(resolved)) {
    throw new StoreUnavailableError(`${resolved} does not exist.`, 'Check --db, or open it once without read-only.');
  }
  if (!readonly) fs.mkdirSync(path.dirname(resolved), { recursive: true });
  checkHeader(resolved);

  const db = new Database(resolved, { readonly, fileMustExist: readonly });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    const version = userVersion(db); // first real read: a damaged file fails here
    if (version > LATEST_SCHEMA_VERSION) throw new StoreNewerVersionError(resolved, version, LATEST_SCHEMA_VERSION);
    db.pragma('foreign_keys = ON');
    if (readonly) {
      if (version < LATEST_SCHEMA_VERSION) {
        throw new StoreUnavailableError(
          `${resolved} uses schema ${version}; this build needs ${LATEST_SCHEMA_VERSION}.`,
          'Open it once without read-only so FreezeLab can upgrade it.',
        );
      }
    } else {
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL is durable across application crashes; only a power loss can drop
      // the last commits, which for training logs is an acceptable trade for fewer fsyncs.
      db.pragma('synchronous = NORMAL');
      migrate(db, resolved, options.upToVersion);
    }
    return db;
  } catch (error) {
    db.close();
    if (isNotADb(error)) throw new StoreNotDatabaseError(resolved, (error as Error).message);
    throw error;
  }
}
