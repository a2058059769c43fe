/** Opening the run store: pragmas, file checks and migrations. */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from './db.js';
import { userVersion } from './db.js';
import {
  StoreForeignError,
  StoreNewerVersionError,
  StoreNotDatabaseError,
  StorePathError,
  StoreUnavailableError,
} from './errors.js';
import { FREEZELAB_APPLICATION_ID, FREEZELAB_TABLES } from './identity.js';
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

/**
 * Refuses a path that cannot hold a database before SQLite turns it into an obscure error: a
 * folder, a parent that is a file, a read-only file or folder (SQLite needs to create `-wal` and
 * `-shm` beside the file).
 */
function checkWritablePath(file: string): void {
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new StorePathError(file, `its folder ${dir} cannot be created (${(error as Error).message})`);
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined; // a new file
  }
  if (stat?.isDirectory()) {
    throw new StorePathError(
      file,
      'it is a folder',
      'Give --db (or FREEZELAB_DB) a file name, e.g. inside that folder.',
    );
  }
  if (stat) {
    try {
      fs.closeSync(fs.openSync(file, 'r+')); // opening for writing is the only check root cannot pass by default
    } catch (error) {
      throw new StorePathError(file, `the file is read-only (${(error as NodeJS.ErrnoException).code ?? 'no access'})`);
    }
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    // access() says yes to root everywhere; an immutable or read-only-mounted folder still refuses.
    const probe = path.join(dir, `.${path.basename(file)}.${process.pid}.probe`);
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe, { force: true });
  } catch (error) {
    throw new StorePathError(
      file,
      `its folder ${dir} is read-only (${(error as NodeJS.ErrnoException).code ?? 'no access'}); ` +
        'SQLite needs to create its journal files beside the database',
    );
  }
}

/** What the file's header and tables say about who it belongs to; throws for another application's file. */
function checkOwnership(db: Db, file: string): number {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = userVersion(db); // first real read: a damaged file fails here
  if (appId !== 0 && appId !== FREEZELAB_APPLICATION_ID) {
    throw new StoreForeignError(file, `its application id is ${appId} (0x${(appId >>> 0).toString(16)})`);
  }
  if (version > LATEST_SCHEMA_VERSION) throw new StoreNewerVersionError(file, version, LATEST_SCHEMA_VERSION);
  if (appId === FREEZELAB_APPLICATION_ID) return version;
  // Files before schema 4 carry no application id: they are ours if their tables are.
  const tables = (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as {
      name: string;
    }[]
  ).map((t) => t.name);
  const others = tables.filter((t) => !FREEZELAB_TABLES.has(t));
  if (others.length > 0) {
    throw new StoreForeignError(file, `it holds tables FreezeLab does not use (${others.slice(0, 5).join(', ')})`);
  }
  if (version > 0 && !tables.includes('runs')) {
    throw new StoreForeignError(file, `it is at version ${version} but has no FreezeLab tables`);
  }
  if (version >= 4) throw new StoreForeignError(file, `it has no FreezeLab application id (version ${version})`);
  return version;
}

/** Sleeps without an event loop (opening a store is synchronous). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Switches to WAL. The change needs every other connection out of the file, and SQLite may answer
 * SQLITE_BUSY at once instead of calling the busy handler, so a process that opens a new file while
 * another one creates it retries until the busy timeout.
 */
function enableWal(db: Db, timeoutMs: number): void {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > end) throw error;
      sleepSync(20);
    }
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
 * for a file from a newer build, `StoreNotDatabaseError` for a file that is not SQLite,
 * `StoreForeignError` for another application's SQLite file (left untouched) and `StorePathError`
 * for a folder or a read-only path.
 */
export function openStore(file: string, options: OpenStoreOptions = {}): Db {
  const readonly = options.readonly ?? false;
  const resolved = path.resolve(file);
  if (readonly && !fs.existsSync(resolved)) {
    throw new StoreUnavailableError(`${resolved} does not exist.`, 'Check --db, or open it once without read-only.');
  }
  if (!readonly) checkWritablePath(resolved);
  checkHeader(resolved);

  let db: Db;
  try {
    db = new Database(resolved, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw new StorePathError(resolved, `SQLite cannot open it (${(error as Error).message})`);
  }
  const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before anything is written: another application's file must stay exactly as it is.
    const version = checkOwnership(db, resolved);
    db.pragma('foreign_keys = ON');
    if (readonly) {
      if (version < LATEST_SCHEMA_VERSION) {
        throw new StoreUnavailableError(
          `${resolved} uses schema ${version}; this build needs ${LATEST_SCHEMA_VERSION}.`,
          'Open it once without read-only so FreezeLab can upgrade it.',
        );
      }
    } else {
      enableWal(db, busyTimeoutMs);
      // In WAL mode NORMAL is durable across application crashes; only a power loss can drop
      // the last commits, which for training logs is an acceptable trade for fewer fsyncs.
      db.pragma('synchronous = NORMAL');
      migrate(db, resolved, options.upToVersion);
    }
    return db;
  } catch (error) {
    db.close();
    if (isNotADb(error)) throw new StoreNotDatabaseError(resolved, (error as Error).message);
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') {
      throw new StorePathError(resolved, `SQLite cannot write it (${(error as Error).message})`);
    }
    throw error;
  }
}
