/**
 * Reproduces the demo's base weights (assets/demo/demo-base.safetensors): generates demo domain A
 * and trains the demo model (assets/demo/yolov5-demo.yaml) on it, on whichever backend loads:
 * stage 1 from scratch with hyp.scratch-low (60 epochs), stage 2 from stage 1's best weights with a
 * stronger class loss (scripts/demo-classes.hyp.yaml, 20 epochs); keeps stage 2's best EMA
 * weights. Seeded: same backend, same weights. Each stage resumes if interrupted.
 * Run: `npx tsx scripts/pretrain-demo.ts` (about 45 minutes on 2 CPU cores).
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

const { values } = parseArgs({
  options: { epochs: { type: 'string' }, 'class-epochs': { type: 'string' }, out: { type: 'string' } },
});
const work = path.join(os.tmpdir(), 'freezelab-demo-pretrain');
const backend = await initBackend();
console.log(`backend ${backend.name}; generating domain A in ${work}`);
const data = await writeDemoDataset(path.join(work, 'domain-a'), DEMO_PRETRAIN);
const started = performance.now();

async function stage(name: string, runDir: string, settings: Record<string, unknown>): Promise<void> {
  const outcome = await runTraining(
    trainConfigSchema.parse({ data, imgSize: DEMO_PRETRAIN.size, batch: 16, seed: 0, name, ...settings }),
    {
      runDir,
      resume: true,
      onEpoch: (e) =>
        console.log(
          `${name} epoch ${e.epoch}: loss ${((e.boxLoss ?? 0) + (e.objLoss ?? 0) + (e.clsLoss ?? 0)).toFixed(4)} ` +
            `P ${e.precision?.toFixed(3)} R ${e.recall?.toFixed(3)} mAP50 ${e.map50?.toFixed(3)} mAP50-95 ${e.map50_95?.toFixed(3)} ` +
            `${e.seconds.toFixed(1)}s (${((performance.now() - started) / 60000).toFixed(1)} min)`,
        ),
    },
  );
  console.log(`${name}: ${outcome.summary}`);
}

const stage1 = path.join(work, 'run');
await stage('stage 1', stage1, {
  model: path.join(packageRoot, 'assets', 'demo', 'yolov5-demo.yaml'),
  epochs: Number(values.epochs ?? 60),
  hyp: 'scratch-low',
});
const runDir = path.join(work, 'run-classes');
await stage('stage 2', runDir, {
  weights: path.join(stage1, 'best.safetensors'),
  epochs: Number(values['class-epochs'] ?? 20),
  hyp: path.join(packageRoot, 'scripts', 'demo-classes.hyp.yaml'),
});
const target = values.out ?? path.join(packageRoot, 'assets', 'demo', 'demo-base.safetensors');
await mkdir(path.dirname(target), { recursive: true });
await copyFile(path.join(runDir, 'best.safetensors'), target);
console.log(`wrote ${target}`);
