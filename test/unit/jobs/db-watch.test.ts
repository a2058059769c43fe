import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseWatcher } from '../../../src/main/jobs/db-watch.js';
import { EventBus } from '../../../src/main/jobs/events.js';
import type { EventMessage } from '../../../src/shared/contract.js';
import { createRun, openStore, recordEpoch, setRunStatus, type Db } from '../../../src/main/store/index.js';
import { epoch, newRun, tempDir } from '../store/fixtures.js';

let dir: string;
let mine: Db;
let theirs: Db;
beforeEach(() => {
  dir = tempDir();
  mine = openStore(path.join(dir, 'shared.db'));
  theirs = openStore(path.join(dir, 'shared.db')); // another process's connection
});
afterEach(() => {
  mine.close();
  theirs.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('DatabaseWatcher', () => {
  it("reports runs another connection creates and changes, as run.status events, and not this runner's own", () => {
    const events = new EventBus();
    const seen: EventMessage[] = [];
    events.subscribe((m) => seen.push(m));
    const before = createRun(mine, newRun()).id;
    let own: number[] = [];
    const watcher = new DatabaseWatcher(mine, events, () => own);
    expect(watcher.poll()).toEqual([]);

    const started = createRun(theirs, newRun({ name: 'from the CLI' })).id;
    setRunStatus(theirs, started, 'running', { pid: 4242 });
    expect(watcher.poll()).toEqual([started]);
    expect(seen).toEqual([{ event: 'run.status', payload: { runId: started, status: 'running', reason: null } }]);
    expect(watcher.poll()).toEqual([]); // nothing new

    recordEpoch(theirs, started, epoch(0)); // an epoch done: the list shows its metrics
    expect(watcher.poll()).toEqual([started]);
    setRunStatus(theirs, started, 'completed', { reason: 'done' });
    expect(watcher.poll()).toEqual([started]);
    expect(seen.at(-1)).toEqual({
      event: 'run.status',
      payload: { runId: started, status: 'completed', reason: 'done' },
    });

    // This process's own worker writes through another connection too; its runner reports those itself.
    own = [before];
    setRunStatus(theirs, before, 'running', { pid: 4243 });
    expect(watcher.poll()).toEqual([]);
    // Writes on the watcher's own connection do not move data_version: the service emits those itself.
    createRun(mine, newRun({ name: 'queued here' }));
    expect(watcher.poll()).toEqual([]);
    expect(seen).toHaveLength(3);
  });
});
