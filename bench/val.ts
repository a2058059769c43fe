/**
 * Validation throughput of yolov5n.pt on coco128 (128 images) with the val.py pipeline on the
 * wasm backend: images per second at img 640 and 320 (batch 16) with 1 worker (this thread) and
 * with 2 (replica threads, batches in flight on both), with the peak of live tensor memory, plus
 * the peak of one batch of 32 at 640 (forward only) to size validation batches.
 *
 * PyTorch comparison (derived, no PyTorch val timing exists in ../shared): PyTorch 1.13 CPU takes
 * 100 ms per 640x640 image and 22 ms per 320x320 image at batch 8 (TFJS-NOTES.md). val.py feeds
 * rectangular batches, so its forward time per image is that figure times the mean input area of
 * the batch plan over the square's area; NMS and loading are left out, which makes the PyTorch
 * rate an upper bound (the ratio flatters PyTorch).
 * Run: `npx tsx bench/val.ts` (needs ../shared or FREEZELAB_SHARED). Writes bench/results/val.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadDataConfig } from '../src/main/engine/data/config.js';
import { planValBatches } from '../src/main/engine/data/val-loader.js';
import { scanSplit, validate } from '../src/main/engine/eval/validate.js';
import { type MemoryPeak, predict } from '../src/main/engine/infer/detect.js';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../src/main/engine/model/source.js';
import { poolDetector, startInferencePool } from '../src/main/engine/parallel/data-parallel.js';
import { initBackend } from '../src/main/engine/tf/backend.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.env.FREEZELAB_SHARED ?? path.resolve(root, '..', 'shared');
const MiB = 2 ** 20;

const backend = await initBackend({ prefer: 'wasm' });
const src = await resolveModelSource(path.join(sharedDir, 'weights', 'yolov5n.pt'));
const { model } = instantiateModel(src);
const cfg = await loadDataConfig(path.join(sharedDir, 'data', 'coco128', 'coco128.yaml'));
const images = await scanSplit(cfg, 'val');
const pool = await startInferencePool(model, modelYamlToObject(src.yaml, model.graph.nc), 2, 'wasm');

const runs = [];
for (const [imgSize, torchSquareMs] of [
  [640, 100],
  [320, 22],
] as const) {
  const batchSize = 16;
  const plan = planValBatches(images, { imgSize, batchSize });
  const n = plan.reduce((a, b) => a + b.images.length, 0);
  const area = plan.reduce((a, b) => a + b.images.length * b.shape[0] * b.shape[1], 0) / n / (imgSize * imgSize);
  const torchImagesPerSecond = 1000 / (torchSquareMs * area);
  for (const workers of [1, 2]) {
    const r = await validate(model, {
      data: cfg,
      images,
      imgSize,
      batchSize,
      ...(workers > 1 ? { detector: poolDetector(pool) } : {}),
    });
    runs.push({
      imgSize,
      workers,
      batchSize,
      images: r.images,
      seconds: r.seconds,
      imagesPerSecond: r.imagesPerSecond,
      inferenceMsPerImage: r.inferenceMs,
      nmsMsPerImage: r.nmsMs,
      peakTensorMiB: r.peakTensorBytes / MiB,
      map50: r.map50,
      map50_95: r.map50_95,
      meanInputAreaOverSquare: area,
      torchImagesPerSecondDerived: torchImagesPerSecond,
      slowerThanTorch: torchImagesPerSecond / r.imagesPerSecond,
    });
  }
}
await pool.close();

// Peak live tensors of one forward pass of 32 images at 640x672 (the widest val.py rect shape).
const peak32: MemoryPeak = { peakBytes: 0 };
{
  const x = tf.zeros([32, 640, 672, 3]) as tf.Tensor4D;
  const y = predict(model, x, peak32);
  await y.data();
  tf.dispose([x, y]);
}
model.dispose();

console.log(`coco128 val with yolov5n.pt on ${backend.name} (batch 16)`);
console.log(
  'img  workers  images/s  infer ms/img  NMS ms/img  peak MiB  mAP50  mAP50-95  PyTorch images/s (derived)  slower',
);
for (const r of runs) {
  console.log(
    `${String(r.imgSize).padEnd(4)} ${String(r.workers).padStart(7)} ${r.imagesPerSecond.toFixed(2).padStart(10)} ${r.inferenceMsPerImage.toFixed(1).padStart(13)} ` +
      `${r.nmsMsPerImage.toFixed(1).padStart(11)} ${r.peakTensorMiB.toFixed(0).padStart(9)} ${r.map50.toFixed(3).padStart(6)} ` +
      `${r.map50_95.toFixed(3).padStart(9)} ${r.torchImagesPerSecondDerived.toFixed(1).padStart(27)} ${`${r.slowerThanTorch.toFixed(2)}x`.padStart(7)}`,
  );
}
console.log(`peak live tensors, forward of 32 images at 640x672: ${(peak32.peakBytes / MiB).toFixed(0)} MiB`);

const result = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadavg1: os.loadavg()[0] },
  backend: backend.name,
  dataset: 'coco128 (val = train2017, 128 images)',
  torchBasis:
    'PyTorch 1.13 CPU forward 100 ms per 640x640 image, 22 ms per 320x320 image at batch 8 (TFJS-NOTES.md), ' +
    'scaled by the mean rect input area; NMS and loading excluded (upper bound on the PyTorch rate)',
  runs,
  peakTensorMiBForward32At640x672: peak32.peakBytes / MiB,
};
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'val.json'), `${JSON.stringify(result, null, 2)}\n`);
