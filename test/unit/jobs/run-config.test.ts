import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { setupTraining } from '../../../src/main/engine/train/setup.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import { claimRun, createRun, setRunStatus } from '../../../src/main/store/index.js';
import {
  parseRunConfig,
  RUN_CONFIG_VERSION,
  trainConfigSchema,
  type ResolvedTrainConfig,
} from '../../../src/shared/train-config.js';
import { tempDir } from '../../helpers/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';
import { newRun } from '../store/fixtures.js';

/** The run config is parsed and its freeze resolved once, when queued, and stored once. */
let data: TinyDataset;
let service: Service;
let dbPath: string;
let home: string;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  data = await makeTinyDataset({ train: 4, val: 2, size: 64 });
  home = tempDir('freezelab-run-config-');
  const paths = resolveDataPaths({ dataDir: home }, {});
  dbPath = paths.databasePath;
  service = createService({ host: 'cli', runJobs: false, paths, loadBackend: () => initBackend() });
});
afterAll(async () => {
  await service?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const base = () => ({ model: 'n', data: data.yaml, imgSize: 64, batch: 4, epochs: 1, seed: 1 });
const range = (n: number) => [...Array(n).keys()];

async function call<T>(name: string, input: unknown): Promise<T> {
  const result = await service.dispatch(name, input);
  if (!result.ok) throw new Error(`${name}: ${result.error.message}`);
  return result.value as T;
}

interface StoredRow {
  config_json: string;
  freeze_spec: string;
  frozen_modules_json: string;
  img_size: number;
  batch: number;
  bn_policy: string;
  hyp_name: string;
  seed: number;
}

function stored(runId: number): StoredRow {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as StoredRow;
  } finally {
    db.close();
  }
}

describe('the run config, once', () => {
  it('a queued run stores one versioned config with the frozen modules of its preset; the columns follow it', async () => {
    const { runId } = await call<{ runId: number }>('runs.start', { ...base(), freeze: ' backbone ' });
    const row = stored(runId);
    const config = parseRunConfig(JSON.parse(row.config_json)) as ResolvedTrainConfig;
    expect(config.configVersion).toBe(RUN_CONFIG_VERSION);
    expect(config.freeze).toBe('backbone');
    expect(config.frozenModules).toEqual(range(10));
    expect(config.data).toBe(path.resolve(data.yaml));
    expect(typeof config.workers).toBe('number');
    // The indexed columns are derived from the stored config, never computed a second way.
    expect(row.freeze_spec).toBe(config.freeze);
    expect(JSON.parse(row.frozen_modules_json)).toEqual(config.frozenModules);
    expect([row.img_size, row.batch, row.bn_policy, row.hyp_name, row.seed]).toEqual([
      config.imgSize,
      config.batch,
      config.bnFrozen,
      config.hyp,
      config.seed,
    ]);
  });

  it('each run of a sweep stores the frozen modules of its own preset', async () => {
    const { runIds } = await call<{ runIds: number[] }>('sweeps.start', {
      ...base(),
      freezes: ['none', 'backbone', 'all-but-detect', '3'],
    });
    const frozen = runIds.map(
      (id) => (parseRunConfig(JSON.parse(stored(id).config_json)) as ResolvedTrainConfig).frozenModules,
    );
    expect(frozen).toEqual([[], range(10), range(24), range(3)]);
  });

  it('refuses a stored config with a version but no frozen modules, instead of guessing', () => {
    const { data: d } = base();
    expect(() => parseRunConfig({ model: 'n', data: d, configVersion: RUN_CONFIG_VERSION })).toThrow();
    expect(() => parseRunConfig({ model: 'n', data: d, configVersion: 99, frozenModules: [] })).toThrow();
  });

  it('a run stored before the config was versioned (schema 4) resumes, is claimed and trains with its freeze resolved once', async () => {
    const db = service.context.store();
    const legacy = trainConfigSchema.parse({ ...base(), freeze: 'backbone', workers: 1 });
    const runId = createRun(db, newRun({ config: legacy, freezeSpec: 'backbone' })).id;
    setRunStatus(db, runId, 'running', { pid: process.pid });
    setRunStatus(db, runId, 'failed', { reason: 'killed' });
    await call('runs.resume', { id: runId });
    const claimed = claimRun(db, { runId });
    expect(claimed?.id).toBe(runId);
    const config = parseRunConfig(claimed!.config);
    expect('frozenModules' in config).toBe(false);
    const setup = await setupTraining(config);
    try {
      expect(setup.frozenModules).toEqual(range(10));
    } finally {
      setup.dispose();
    }
  });

  it('the trainer uses the resolved frozen module list when it is given, and refuses one the model cannot have', async () => {
    const resolved: ResolvedTrainConfig = {
      ...trainConfigSchema.parse({ ...base(), freeze: 'backbone' }),
      configVersion: RUN_CONFIG_VERSION,
      frozenModules: [0, 1, 2],
    };
    const setup = await setupTraining(resolved);
    try {
      expect(setup.frozenModules).toEqual([0, 1, 2]);
    } finally {
      setup.dispose();
    }
    await expect(setupTraining({ ...resolved, frozenModules: [0, 500] })).rejects.toThrow(/does not have \(500\)/);
  });
});
