/**
 * Reproduces the demo's base weights (assets/demo/demo-base.safetensors): generates demo domain A
 * and trains the demo model (assets/demo/yolov5-demo.yaml) on it from scratch, on whichever
 * backend loads, then keeps the best epoch's EMA weights. Seeded: same backend, same weights.
 * Run: `npx tsx scripts/pretrain-demo.ts [--epochs 60]` (about 15 minutes on 2 CPU cores).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeDemoDataset } from '../src/main/demo/dataset.js';
import { DEMO_PRETRAIN } from '../src/main/demo/demo.js';
import { initBackend } from '../src/main/engine/tf/backend.js';
import { runTraining } from '../src/main/engine/train/trainer.js';
import { packageRoot } from '../src/main/version.js';
import { trainConfigSchema } from '../src/shared/train-config.js';

const { values } = parseArgs({ options: { epochs: { type: 'string' }, out: { type: 'string' } } });
const epochs = Number(values.epochs ?? 60);
const work = path.join(os.tmpdir(), 'freezelab-demo-pretrain');
const backend = await initBackend();
console.log(`backend ${backend.name}; generating domain A in ${work}`);
const data = await writeDemoDataset(path.join(work, 'domain-a'), DEMO_PRETRAIN);
const runDir = path.join(work, 'run');
const started = performance.now();
const outcome = await runTraining(
  trainConfigSchema.parse({
    model: path.join(packageRoot, 'assets', 'demo', 'yolov5-demo.yaml'),
    data,
    imgSize: DEMO_PRETRAIN.size,
    batch: 16,
    epochs,
    hyp: 'scratch-low',
    seed: 0,
    name: 'demo pretraining',
  }),
  {
    runDir,
    resume: true,
    onEpoch: (e) =>
      console.log(
        `epoch ${e.epoch}: loss ${((e.boxLoss ?? 0) + (e.objLoss ?? 0) + (e.clsLoss ?? 0)).toFixed(4)} ` +
          `mAP50 ${e.map50?.toFixed(3)} mAP50-95 ${e.map50_95?.toFixed(3)} ${e.seconds.toFixed(1)}s ` +
          `(${((performance.now() - started) / 60000).toFixed(1)} min)`,
      ),
  },
);
const target = values.out ?? path.join(packageRoot, 'assets', 'demo', 'demo-base.safetensors');
await mkdir(path.dirname(target), { recursive: true });
await copyFile(path.join(runDir, 'best.safetensors'), target);
console.log(`${outcome.summary}\nwrote ${target}`);
