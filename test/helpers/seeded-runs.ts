/**
 * A data folder with finished runs recorded through the real store (no training), and a service
 * over it that runs no jobs: for interface tests of recorded runs that must not wait for training.
 */
import path from 'node:path';
import { initBackend } from '../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../src/main/paths.js';
import { createService, type Service } from '../../src/main/service/service.js';
import { createRun, openStore, recordEpoch, setRunStatus } from '../../src/main/store/index.js';
import { epoch, newRun } from '../unit/store/fixtures.js';
import { tempDir } from './service.js';

export interface SeededRun {
  readonly id: number;
  readonly name: string;
  /** 0-based, as stored. */
  readonly bestEpochIndex: number | null;
}

/**
 * Three runs: two completed (3 epochs; the best is the middle one, stored as index 1) and one
 * cancelled after its first epoch.
 */
export function seedRuns(dataDir: string): SeededRun[] {
  const db = openStore(path.join(dataDir, 'freezelab.db'));
  try {
    const out: SeededRun[] = [];
    const finished = (name: string, freezeSpec: string, frozen: number[], peak: number) => {
      const run = createRun(db, newRun({ name, freezeSpec, frozenModules: frozen, epochs: 3 }));
      setRunStatus(db, run.id, 'running', { pid: process.pid });
      // Epoch index 1 has the highest fitness: 1-based, the best epoch is 2.
      for (const [n, map] of [
        [0, 0.2],
        [1, 0.4],
        [2, 0.3],
      ] as const) {
        recordEpoch(db, run.id, epoch(n, { map50_95: map, peakTensorBytes: peak }));
      }
      setRunStatus(db, run.id, 'completed');
      out.push({ id: run.id, name, bestEpochIndex: 1 });
    };
    finished('seed · freeze none', 'none', [], 300_000_000);
    finished('seed · freeze backbone', 'backbone', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 200_000_000);
    const cancelled = createRun(db, newRun({ name: 'seed · cancelled', epochs: 3 }));
    setRunStatus(db, cancelled.id, 'running', { pid: process.pid });
    recordEpoch(db, cancelled.id, epoch(0));
    setRunStatus(db, cancelled.id, 'cancelled', { reason: 'Cancelled by the user after epoch 1.' });
    out.push({ id: cancelled.id, name: 'seed · cancelled', bestEpochIndex: 0 });
    return out;
  } finally {
    db.close();
  }
}

/** A service over a fresh data folder holding the seeded runs. */
export function seededService(): { service: Service; runs: SeededRun[]; dataDir: string } {
  const dataDir = tempDir('freezelab-seeded-');
  const runs = seedRuns(dataDir);
  const service = createService({
    host: 'web',
    runJobs: false,
    paths: resolveDataPaths({ dataDir }, {}),
    loadBackend: () => initBackend(),
  });
  return { service, runs, dataDir };
}
