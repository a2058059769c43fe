/**
 * A data folder holding one completed "demo run" recorded through the real store, whose best
 * checkpoint is the demo's shipped base weights and whose dataset is the demo's domain B (generated
 * here): the predictions view and command can be tested on a run without minutes of training.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEMO_SWEEP, DEMO_TARGET, demoWeightsPath } from '../../../src/main/demo/demo.js';
import { writeDemoDataset } from '../../../src/main/demo/dataset.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import { addArtifact, createRun, openStore, recordEpoch, setRunStatus } from '../../../src/main/store/index.js';
import { tempDir } from '../../helpers/service.js';
import { epoch, newRun } from '../store/fixtures.js';

export interface DemoRunFolder {
  readonly dataDir: string;
  readonly dataYaml: string;
  readonly weights: string;
  /** The completed run with a best checkpoint, and one queued run without any. */
  readonly runId: number;
  readonly emptyRunId: number;
}

export async function seedDemoRun(): Promise<DemoRunFolder> {
  const dataDir = tempDir('freezelab-predictions-');
  const dataYaml = await writeDemoDataset(path.join(dataDir, 'demo', 'domain-b'), DEMO_TARGET);
  const runDir = path.join(dataDir, 'runs', '1');
  mkdirSync(runDir, { recursive: true });
  const weights = path.join(runDir, 'best.safetensors');
  copyFileSync(demoWeightsPath(), weights);
  const db = openStore(path.join(dataDir, 'freezelab.db'));
  try {
    const run = createRun(
      db,
      newRun({
        name: 'demo · freeze backbone',
        datasetPath: dataYaml,
        weightsPath: demoWeightsPath(),
        model: 'yolov5-demo',
        imgSize: DEMO_SWEEP.imgSize,
        epochs: 1,
        freezeSpec: 'backbone',
      }),
    );
    setRunStatus(db, run.id, 'running', { pid: process.pid });
    recordEpoch(db, run.id, epoch(0));
    addArtifact(db, run.id, { kind: 'best', path: weights, epoch: 0 });
    setRunStatus(db, run.id, 'completed');
    const empty = createRun(db, newRun({ name: 'queued, no checkpoint', datasetPath: dataYaml }));
    return { dataDir, dataYaml, weights, runId: run.id, emptyRunId: empty.id };
  } finally {
    db.close();
  }
}

/** A service over the folder that runs no training jobs (background jobs still run). */
export function demoRunService(folder: DemoRunFolder): Service {
  return createService({
    host: 'web',
    runJobs: false,
    paths: resolveDataPaths({ dataDir: folder.dataDir }, {}),
    loadBackend: () => initBackend({ prefer: 'wasm' }),
  });
}
