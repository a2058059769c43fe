import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  StoreForeignError,
  StoreNewerVersionError,
  StorePathError,
  listRuns,
  openStore,
} from '../../../src/main/store/index.js';
import { toServiceError } from '../../../src/main/service/service.js';
import { tempDir } from './fixtures.js';

let dirs: string[] = [];
let undo: (() => void)[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const u of undo) u();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
  undo = [];
});

/** The main file and any journal beside it, byte for byte. */
function snapshot(file: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    const f = file + suffix;
    out[suffix || 'db'] = fs.existsSync(f) ? fs.readFileSync(f).toString('base64') : null;
  }
  return out;
}

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** Writes a file another application made; `setup` runs on a plain (rollback-journal) connection. */
function foreignFile(name: string, setup: (db: Database.Database) => void): string {
  const file = path.join(dir(), name);
  const db = new Database(file);
  setup(db);
  db.close();
  return file;
}

describe('another application’s SQLite file', () => {
  const cases: [string, (db: Database.Database) => void, RegExp][] = [
    [
      'its own application id',
      (db) => {
        db.pragma('application_id = 1920233825');
        db.exec('CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)');
      },
      /its application id is 1920233825 \(0x72747161\)/,
    ],
    [
      'user_version 0 with its own tables',
      (db) => db.exec("CREATE TABLE contacts (name TEXT, phone TEXT); INSERT INTO contacts VALUES ('Ada', '1')"),
      /it holds tables FreezeLab does not use \(contacts\)/,
    ],
    [
      'a schema version of its own and no FreezeLab tables',
      (db) => {
        db.exec('CREATE TABLE sweeps (x)');
        db.pragma('user_version = 2');
      },
      /it is at version 2 but has no FreezeLab tables/,
    ],
  ];

  it.each(cases)('is refused, naming the file, and left byte for byte as it was: %s', (_name, setup, detail) => {
    const file = foreignFile('their.sqlite', setup);
    const before = snapshot(file);
    for (const readonly of [false, true]) {
      const error = caught(() => openStore(file, { readonly }));
      expect(error).toBeInstanceOf(StoreForeignError);
      expect(error.message).toContain(`${file} is not a FreezeLab database`);
      expect(error.message).toMatch(detail);
      // A user error with a hint, not "a FreezeLab bug".
      expect(toServiceError(error)).toMatchObject({ code: 'bad-file', hint: expect.stringContaining('--db') });
    }
    expect(snapshot(file)).toEqual(before);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(check.prepare("SELECT name FROM sqlite_schema WHERE name = 'store_meta'").get()).toBeUndefined();
    check.close();
  });

  it('a newer FreezeLab file is still refused as newer, and an empty SQLite file becomes a store', () => {
    const future = foreignFile('future.db', (db) => db.pragma('user_version = 99'));
    expect(() => openStore(future)).toThrow(StoreNewerVersionError);
    const empty = foreignFile('empty.db', () => {});
    const db = openStore(empty);
    expect(listRuns(db)).toEqual([]);
    db.close();
  });
});

/**
 * Makes a file or folder unwritable even for root (immutable attribute), else by its mode bits when
 * not root. Returns false when neither works here (root on a file system without chattr).
 */
function makeReadOnly(target: string): boolean {
  try {
    execFileSync('chattr', ['+i', target], { stdio: 'ignore' });
    undo.push(() => execFileSync('chattr', ['-i', target], { stdio: 'ignore' }));
    return true;
  } catch {
    if (process.getuid?.() === 0) return false;
    const mode = fs.statSync(target).mode;
    fs.chmodSync(target, fs.statSync(target).isDirectory() ? 0o555 : 0o444);
    undo.push(() => fs.chmodSync(target, mode));
    return true;
  }
}

describe('a database path that cannot be used', () => {
  it('a folder: a clear user error naming it', () => {
    const folder = dir();
    const error = caught(() => openStore(folder));
    expect(error).toBeInstanceOf(StorePathError);
    expect(error.message).toBe(`Cannot use ${folder} as the FreezeLab database: it is a folder.`);
    expect(toServiceError(error)).toMatchObject({ code: 'bad-file' });
    expect(toServiceError(error).hint).not.toMatch(/bug/);
  });

  it('a parent that is a file', () => {
    const file = path.join(dir(), 'plain.txt');
    fs.writeFileSync(file, 'x');
    const error = caught(() => openStore(path.join(file, 'freezelab.db')));
    expect(error).toBeInstanceOf(StorePathError);
    expect(error.message).toContain(`Cannot use ${path.join(file, 'freezelab.db')} as the FreezeLab database`);
  });

  it('a read-only database file, and a new file in a read-only folder', (ctx) => {
    const d = dir();
    const file = path.join(d, 'freezelab.db');
    openStore(file).close();
    if (!makeReadOnly(file)) ctx.skip(); // root without chattr: nothing here can make a file read-only
    const error = caught(() => openStore(file));
    expect(error).toBeInstanceOf(StorePathError);
    expect(error.message).toMatch(new RegExp(`^Cannot use ${file} as the FreezeLab database: the file is read-only`));
    expect(toServiceError(error).code).toBe('bad-file');
    // Reading it is still fine.
    const ro = openStore(file, { readonly: true });
    expect(listRuns(ro)).toEqual([]);
    ro.close();

    const locked = dir();
    if (!makeReadOnly(locked)) ctx.skip();
    const inLocked = path.join(locked, 'new.db');
    const folderError = caught(() => openStore(inLocked));
    expect(folderError).toBeInstanceOf(StorePathError);
    expect(folderError.message).toContain(
      `Cannot use ${inLocked} as the FreezeLab database: its folder ${locked} is read-only`,
    );
    expect(fs.readdirSync(locked)).toEqual([]);
  });
});
