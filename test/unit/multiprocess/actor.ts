/**
 * A small FreezeLab process for the multi-process tests, run as `node --import tsx actor.ts CMD ...`.
 * It prints one JSON line with what it did; `hold` then keeps running (owning a run) until killed.
 *
 *   open DB T0            wait until Date.now() >= T0 (so N processes open at once), open DB
 *   hold DB HOME DATA     queue a tiny run (without a runner) and claim it like a worker, heartbeating
 *   delete DB HOME ID     delete a run through the service (its rows and its folder)
 */
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import {
  claimRun,
  databaseId,
  FREEZELAB_APPLICATION_ID,
  heartbeat,
  openStore,
  thisProcess,
} from '../../../src/main/store/index.js';
import { userVersion } from '../../../src/main/store/db.js';

const [cmd, ...args] = process.argv.slice(2);
const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

switch (cmd) {
  case 'open': {
    const [db, t0] = args as [string, string];
    while (Date.now() < Number(t0)) {
      // spin: a timer would let the processes drift apart by a scheduler tick or more
    }
    const store = openStore(db);
    say({
      uuid: databaseId(store),
      version: userVersion(store),
      appId: store.pragma('application_id', { simple: true }) === FREEZELAB_APPLICATION_ID,
    });
    store.close();
    break;
  }
  case 'hold': {
    const [db, home, data] = args as [string, string, string];
    const service = createService({
      host: 'cli',
      runJobs: false,
      paths: resolveDataPaths({ db, dataDir: home }, {}),
      loadBackend: () => initBackend(),
    });
    const queued = await service.call('runs.start', {
      model: 'n',
      data,
      imgSize: 64,
      batch: 2,
      epochs: 1,
      freeze: 'none',
      seed: 3,
    });
    if (!queued.ok) throw new Error(queued.error.message);
    await service.close();
    const store = openStore(db);
    const me = thisProcess();
    const run = claimRun(store, { owner: me, runId: queued.value.runId });
    if (!run) throw new Error(`could not claim run ${queued.value.runId}`);
    // As the worker does: a heartbeat every few seconds (faster here, the tests do not wait on it).
    setInterval(() => heartbeat(store, run.id, me), 500);
    say({ runId: run.id, pid: process.pid, startedAt: me.startedAt });
    break;
  }
  case 'delete': {
    const [db, home, id] = args as [string, string, string];
    const service = createService({
      host: 'cli',
      runJobs: false,
      paths: resolveDataPaths({ db, dataDir: home }, {}),
      loadBackend: () => initBackend(),
    });
    say(await service.call('runs.delete', { id: Number(id) }));
    await service.close();
    break;
  }
  default:
    throw new Error(`unknown actor command ${cmd}`);
}
