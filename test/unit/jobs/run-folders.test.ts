import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDirOf } from '../../../src/main/jobs/worker.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { addArtifact, createRun, databaseId, setRunStatus } from '../../../src/main/store/index.js';
import { newRun, tempDir } from '../store/fixtures.js';

const services: Service[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function serviceOn(home: string, db: string): Service {
  const s = createService({
    host: 'cli',
    runJobs: false,
    paths: resolveDataPaths({ db: path.join(home, db), dataDir: home }, {}),
    loadBackend: () => initBackend(),
  });
  services.push(s);
  return s;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A completed run whose checkpoints (with `content`) are in `folder`, recorded with their checksums. */
function finishedRun(service: Service, folder: string, content: string): number {
  const db = service.context.store();
  const id = createRun(db, newRun()).id;
  setRunStatus(db, id, 'running', { pid: process.pid });
  fs.mkdirSync(folder, { recursive: true });
  for (const kind of ['best', 'last'] as const) {
    const file = path.join(folder, `${kind}.safetensors`);
    fs.writeFileSync(file, `${content} ${kind}`);
    addArtifact(db, id, { kind, path: file, sha256: sha(`${content} ${kind}`), bytes: 1, epoch: 0 });
  }
  fs.writeFileSync(path.join(folder, 'last-state.safetensors'), `${content} state`);
  setRunStatus(db, id, 'completed');
  return id;
}

describe('run folders of databases sharing one data folder', () => {
  it('are keyed by the database UUID; a run with checkpoints keeps the folder they are in', () => {
    const home = tempDir();
    dirs.push(home);
    const a = serviceOn(home, 'a.db');
    const db = a.context.store();
    const fresh = createRun(db, newRun()).id;
    expect(runDirOf(db, path.join(home, 'runs'), fresh)).toBe(path.join(home, 'runs', databaseId(db), String(fresh)));
    const legacy = finishedRun(a, path.join(home, 'runs', '7'), 'A');
    expect(runDirOf(db, path.join(home, 'runs'), legacy)).toBe(path.join(home, 'runs', '7'));
  });

  it('deleting a run removes its own folder; an old shared folder only when its files are still its own', async () => {
    const home = tempDir();
    dirs.push(home);
    const a = serviceOn(home, 'a.db');
    const b = serviceOn(home, 'b.db');
    const runs = path.join(home, 'runs');
    // Before schema 4 both databases' run 1 used <runs>/1: B trained last and wrote over A's files.
    const legacy = path.join(runs, '1');
    const idA = finishedRun(a, legacy, 'A');
    const idB = finishedRun(b, legacy, 'B');
    expect([idA, idB]).toEqual([1, 1]);
    // Run 2 of each, in the new layout.
    const ownA = path.join(runs, databaseId(a.context.store()), '2');
    const ownB = path.join(runs, databaseId(b.context.store()), '2');
    finishedRun(a, ownA, 'A2');
    finishedRun(b, ownB, 'B2');

    expect(await a.call('runs.delete', { id: 1 })).toEqual({ ok: true, value: { deleted: 1 } });
    expect(fs.readdirSync(legacy).sort()).toEqual(['best.safetensors', 'last-state.safetensors', 'last.safetensors']);
    expect(fs.readFileSync(path.join(legacy, 'best.safetensors'), 'utf8')).toBe('B best');

    expect(await a.call('runs.delete', { id: 2 })).toEqual({ ok: true, value: { deleted: 2 } });
    expect(fs.existsSync(ownA)).toBe(false);
    expect(fs.readdirSync(ownB).sort()).toEqual(['best.safetensors', 'last-state.safetensors', 'last.safetensors']);

    expect(await b.call('runs.delete', { id: 1 })).toEqual({ ok: true, value: { deleted: 1 } });
    expect(fs.existsSync(legacy)).toBe(false);
  });
});
