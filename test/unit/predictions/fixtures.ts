/**
 * Demo runs for the predictions command and view, on the demo's domain B (generated here):
 * - `seedDemoRun`: one completed run recorded through the real store, whose best checkpoint is a
 *   copy of the demo's shipped base weights (no training, for the command's unit tests);
 * - `trainDemoRun`: one run of the demo's configuration really trained by the service's job runner
 *   (worker process, replica threads), for the end-to-end view test.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DEMO_SWEEP, DEMO_TARGET, demoWeightsPath, prepareDemo } from '../../../src/main/demo/demo.js';
import { writeDemoDataset } from '../../../src/main/demo/dataset.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import type { RunDetail } from '../../../src/shared/runs.js';
import { isFinished } from '../../../src/shared/runs.js';
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

export interface TrainedDemoRun {
  readonly dataDir: string;
  readonly dataYaml: string;
  /** The run's best checkpoint, written by the training worker. */
  readonly weights: string;
  readonly runId: number;
  /** The service that trained it (it runs jobs); close it when done. */
  readonly service: Service;
  readonly detail: RunDetail;
  /** Wall time from queueing the run to its completion. */
  readonly trainSeconds: number;
}

export interface TrainDemoRunOptions {
  /** Default `all-but-detect` (the demo's cheapest preset). */
  readonly freeze?: string;
  /** Default 1. */
  readonly epochs?: number;
  readonly timeoutMs?: number;
}

/**
 * Generates the demo's domain B in a fresh data folder (as `demo.start` does) and trains one run
 * of the demo sweep's configuration (its base weights, image size, batch, hyp and seed) through a
 * service that runs jobs; resolves when the run has completed, rejects with its reason otherwise.
 */
export async function trainDemoRun(opts: TrainDemoRunOptions = {}): Promise<TrainedDemoRun> {
  const dataDir = tempDir('freezelab-predictions-trained-');
  const service = createService({
    host: 'web',
    paths: resolveDataPaths({ dataDir }, {}),
    loadBackend: () => initBackend({ prefer: 'wasm' }),
  });
  try {
    const { request, dataYaml } = await prepareDemo(dataDir);
    const freeze = opts.freeze ?? 'all-but-detect';
    const started = performance.now();
    const queued = await service.call('runs.start', {
      name: `${request.name} · freeze ${freeze}`,
      weights: request.weights,
      data: request.data,
      imgSize: request.imgSize,
      batch: request.batch,
      hyp: request.hyp,
      seed: request.seed,
      epochs: opts.epochs ?? 1,
      freeze,
    });
    if (!queued.ok) throw new Error(`runs.start failed: ${JSON.stringify(queued.error)}`);
    const runId = queued.value.runId;
    const deadline = Date.now() + (opts.timeoutMs ?? 150_000);
    let detail: RunDetail;
    for (;;) {
      const got = await service.call('runs.get', { id: runId });
      if (!got.ok) throw new Error(`runs.get failed: ${JSON.stringify(got.error)}`);
      detail = got.value;
      if (isFinished(detail.run.status)) break;
      if (Date.now() > deadline)
        throw new Error(`run ${runId} still ${detail.run.status} after ${opts.timeoutMs ?? 150_000} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const trainSeconds = (performance.now() - started) / 1000;
    if (detail.run.status !== 'completed') {
      throw new Error(`run ${runId} ended ${detail.run.status}: ${detail.run.statusReason ?? '(no reason)'}`);
    }
    const best = detail.artifacts.filter((a) => a.kind === 'best').at(-1);
    if (!best) throw new Error(`run ${runId} completed without a best checkpoint`);
    return { dataDir, dataYaml, weights: best.path, runId, service, detail, trainSeconds };
  } catch (error) {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
