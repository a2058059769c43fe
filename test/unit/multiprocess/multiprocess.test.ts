/**
 * Many processes, one database: real child processes (the CLI, and small actors that use the store
 * as a worker does) sharing a database file and a data folder.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../../src/main/files.js';
import { LATEST_SCHEMA_VERSION } from '../../../src/main/store/index.js';
import { tempDir } from '../../helpers/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const ACTOR = path.join(here, 'actor.ts');
const CLI = path.join(root, 'src/main/cli/main.ts');

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children: ChildProcess[] = [];

function start(script: string, args: readonly string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, FREEZELAB_DB: '', FREEZELAB_HOME: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, exit };
}

const run = (script: string, args: readonly string[]) => start(script, args).exit;

/** The first JSON line a child prints (an actor that keeps running after it). */
function firstLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(text.slice(0, nl)) as T);
    });
    child.on('exit', (code) => reject(new Error(`actor exited (${code}) before saying anything`)));
  });
}

function readDb<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const statusOf = (file: string, id: number) =>
  readDb(file, (db) => db.prepare('SELECT status, pid FROM runs WHERE id = ?').get(id)) as {
    status: string;
    pid: number | null;
  };

let data: TinyDataset;
beforeAll(async () => {
  data = await makeTinyDataset({ train: 4, val: 2, size: 64 });
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const trainArgs = (db: string, home: string, seed: number) => [
  'train',
  '--model',
  'n',
  '--data',
  data.yaml,
  '--img',
  '64',
  '--batch',
  '2',
  '--epochs',
  '1',
  '--freeze',
  'none',
  '--seed',
  String(seed),
  '--db',
  db,
  '--home',
  home,
  '--json',
];

describe('many processes, one database', () => {
  it('N processes opening a new database at once all succeed, with one schema and one UUID', async () => {
    const file = path.join(tempDir('freezelab-mp-'), 'new', 'freezelab.db');
    const t0 = Date.now() + 4000; // after every child has loaded
    const exits = await Promise.all(Array.from({ length: 6 }, () => run(ACTOR, ['open', file, String(t0)])));
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    const seen = exits.map((e) => JSON.parse(e.stdout) as { uuid: string; version: number; appId: boolean });
    expect(new Set(seen.map((s) => s.uuid)).size).toBe(1);
    for (const s of seen) expect(s).toMatchObject({ version: LATEST_SCHEMA_VERSION, appId: true });
  });

  it('a live run stays running when other processes start runners; resume of it is refused, naming its owner', async () => {
    const home = tempDir('freezelab-mp-');
    const db = path.join(home, 'shared.db');
    const holder = start(ACTOR, ['hold', db, home, data.yaml]);
    const held = await firstLine<{ runId: number; pid: number; startedAt: number }>(holder.child);
    expect(statusOf(db, held.runId)).toEqual({ status: 'running', pid: held.pid });

    // Another process lists it (the runs list reads the status from the database).
    const listed = await run(CLI, ['runs', '--db', db, '--home', home, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const runs = JSON.parse(listed.stdout) as { run: { id: number; status: string; pid: number } }[];
    expect(runs.map((r) => r.run)).toContainEqual(
      expect.objectContaining({ id: held.runId, status: 'running', pid: held.pid }),
    );

    // `resume` starts a runner (which used to mark every run it did not start interrupted) and asks
    // to resume the live run: refused, with who owns it.
    const resumed = await run(CLI, ['resume', String(held.runId), '--db', db, '--home', home]);
    expect(resumed.code).not.toBe(0);
    const since = new Date(held.startedAt).toISOString().replace('T', ' ').slice(0, 16);
    expect(resumed.stderr).toContain(
      `Run ${held.runId} is running in another FreezeLab process (pid ${held.pid} on ${os.hostname()}, since ${since}`,
    );
    expect(statusOf(db, held.runId)).toEqual({ status: 'running', pid: held.pid });

    // Its owner dies: now the next process to look marks it interrupted, and resume trains it to the end.
    holder.child.kill('SIGKILL');
    await holder.exit;
    const after = await run(CLI, ['resume', String(held.runId), '--db', db, '--home', home, '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(statusOf(db, held.runId)).toEqual({ status: 'completed', pid: null });
    const reasons = readDb(db, (d) => d.prepare('SELECT status_reason FROM runs WHERE id = ?').get(held.runId));
    expect(reasons).toMatchObject({ status_reason: expect.stringMatching(/^Completed 1 epochs/) });
  });

  it('two trainers on one database, and a third on another database in the same data folder', async () => {
    const home = tempDir('freezelab-mp-');
    const one = path.join(home, 'one.db');
    const two = path.join(home, 'two.db');
    // The first opens, one at a time, so each trainer's first run id is known: one.db gets 1 and 2.
    const [a, b, c] = await Promise.all([
      run(CLI, trainArgs(one, home, 1)),
      run(CLI, trainArgs(one, home, 2)),
      run(CLI, trainArgs(two, home, 5)),
    ]);
    const detail = (e: Exit) => {
      expect(e.code, e.stderr).toBe(0);
      return JSON.parse(e.stdout) as {
        run: { id: number; status: string; seed: number };
        artifacts: { kind: string; path: string; sha256: string }[];
      };
    };
    const [da, db, dc] = [detail(a), detail(b), detail(c)];
    // Each trainer trained its own run to the end: none was interrupted by the other's runner.
    expect([da.run.seed, db.run.seed, dc.run.seed]).toEqual([1, 2, 5]);
    for (const d of [da, db, dc]) expect(d.run.status).toBe('completed');
    expect(new Set([da.run.id, db.run.id])).toEqual(new Set([1, 2]));
    expect(dc.run.id).toBe(1);

    // Run folders are keyed by each database's UUID: run 1 of one.db and run 1 of two.db do not collide.
    const uuidOf = (file: string) =>
      readDb(
        file,
        (d) => (d.prepare("SELECT value FROM store_meta WHERE key = 'db_uuid'").get() as { value: string }).value,
      );
    const [u1, u2] = [uuidOf(one), uuidOf(two)];
    expect(u1).not.toBe(u2);
    const one1 = [da, db].find((d) => d.run.id === 1)!;
    for (const [d, uuid] of [
      [da, u1],
      [db, u1],
      [dc, u2],
    ] as const) {
      expect(d.artifacts.map((x) => x.kind).sort()).toEqual(['best', 'last']);
      for (const x of d.artifacts) {
        expect(path.dirname(x.path)).toBe(path.join(home, 'runs', uuid, String(d.run.id)));
        expect(await sha256File(x.path)).toBe(x.sha256); // nobody wrote over it
      }
    }

    // Deleting run 1 in two.db removes its folder only; one.db's run 1 keeps its files and exports them.
    const deleted = await run(ACTOR, ['delete', two, home, '1']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ ok: true, value: { deleted: 1 } });
    expect(fs.existsSync(path.join(home, 'runs', u2, '1'))).toBe(false);
    for (const x of one1.artifacts) expect(await sha256File(x.path)).toBe(x.sha256);
    const out = path.join(home, 'export-1');
    const exported = await run(CLI, ['export', '1', '--db', one, '--home', home, '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const best = one1.artifacts.find((x) => x.kind === 'best')!;
    expect(await sha256File(path.join(out, 'best.safetensors'))).toBe(best.sha256);
  });
});
