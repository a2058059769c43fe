/**
 * Training throughput and memory for the three freeze presets: yolov5n.pt fine-tuned on coco128
 * at img 320, batch 16 (the freeze guide's comparison, on the Ultralytics figures' settings), one
 * epoch each (8 batches) on the wasm backend. Reports training images/s (median over batches 2-8:
 * the first pays for kernel set-up), the epoch's training seconds, the peak of live tensor bytes
 * inside a step (tf.profile) and the process RSS peak, each with the ratio to PyTorch's figures
 * in ../shared/reference/README.md (2-core CPU: 6.0 / 4.5 / 4.0 s per 8-batch epoch, peak RSS
 * 1.84 / 1.58 / 1.37 GB).
 * Run: `npx tsx bench/train.ts [none,backbone,all-but-detect]` (needs ../shared). Each preset
 * runs in its own process so peaks do not carry over. Writes bench/results/train.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.env.FREEZELAB_SHARED ?? path.resolve(root, '..', 'shared');
const TORCH = {
  none: { secondsPerEpoch: 6.0, rssGB: 1.84 },
  backbone: { secondsPerEpoch: 4.5, rssGB: 1.58 },
  'all-but-detect': { secondsPerEpoch: 4.0, rssGB: 1.37 },
} as const;
type Preset = keyof typeof TORCH;

interface Measure {
  preset: Preset;
  trainableParams: number;
  imagesPerSecond: number;
  trainSeconds: number;
  peakTensorBytes: number;
  peakRssBytes: number;
}

async function measure(preset: Preset): Promise<Measure> {
  const { initBackend } = await import('../src/main/engine/tf/backend.js');
  const { runTraining } = await import('../src/main/engine/train/trainer.js');
  const { trainConfigSchema } = await import('../src/shared/train-config.js');
  await initBackend({ prefer: 'wasm' });
  const config = trainConfigSchema.parse({
    weights: path.join(sharedDir, 'weights', 'yolov5n.pt'),
    data: path.join(sharedDir, 'data', 'coco128', 'coco128.yaml'),
    imgSize: 320,
    batch: 16,
    epochs: 1,
    freeze: preset,
  });
  const speeds: number[] = [];
  let rss = 0;
  let trainStart = 0;
  let trainSeconds = 0;
  let trainable = 0;
  let peakTensorBytes = 0;
  await runTraining(config, {
    runDir: path.join(os.tmpdir(), `freezelab-bench-train-${preset}-${process.pid}`),
    resume: false,
    onModel: (m) => (trainable = m.trainableParams),
    onProgress: (p) => {
      rss = Math.max(rss, process.memoryUsage().rss);
      if (p.phase === 'train') {
        if (p.batch === 0) trainStart = performance.now();
        else if (p.imagesPerSecond !== undefined) speeds.push(p.imagesPerSecond);
        trainSeconds = (performance.now() - trainStart) / 1000;
      }
    },
    onEpoch: (e) => (peakTensorBytes = e.peakTensorBytes ?? 0),
  });
  speeds.sort((a, b) => a - b);
  return {
    preset,
    trainableParams: trainable,
    imagesPerSecond: speeds[Math.floor(speeds.length / 2)] ?? 0,
    trainSeconds,
    peakTensorBytes,
    peakRssBytes: rss,
  };
}

if (process.env.FREEZELAB_BENCH_CHILD) {
  const result = await measure(process.env.FREEZELAB_BENCH_CHILD as Preset);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} else {
  const presets = (process.argv[2] ?? 'none,backbone,all-but-detect').split(',') as Preset[];
  const results: (Measure & { torchImagesPerSecond: number; slowerThanTorch: number; rssRatio: number })[] = [];
  for (const preset of presets) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, FREEZELAB_BENCH_CHILD: preset },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`no result from the ${preset} run:\n${out}`);
    const m = JSON.parse(line.slice(7)) as Measure;
    const torchImagesPerSecond = 128 / TORCH[preset].secondsPerEpoch;
    results.push({
      ...m,
      torchImagesPerSecond,
      slowerThanTorch: torchImagesPerSecond / m.imagesPerSecond,
      rssRatio: m.peakRssBytes / 1e9 / TORCH[preset].rssGB,
    });
  }
  const base = results.find((r) => r.preset === 'none');
  console.log('preset           trainable  img/s  (PyTorch)  slower  train s/epoch  peak tensors  peak RSS (PyTorch)');
  for (const r of results) {
    console.log(
      `${r.preset.padEnd(15)} ${r.trainableParams.toLocaleString('en-US').padStart(10)}  ${r.imagesPerSecond.toFixed(1).padStart(5)}  (${r.torchImagesPerSecond.toFixed(1)})  ${r.slowerThanTorch.toFixed(1)}x  ${r.trainSeconds.toFixed(1).padStart(12)}  ${(r.peakTensorBytes / 1e9).toFixed(2)} GB${base ? ` (${(((r.peakTensorBytes - base.peakTensorBytes) / base.peakTensorBytes) * 100).toFixed(0)}%)` : ''}  ${(r.peakRssBytes / 1e9).toFixed(2)} GB (${TORCH[r.preset].rssGB})`,
    );
  }
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    path.join(root, 'bench', 'results', 'train.json'),
    `${JSON.stringify({ date: new Date().toISOString(), cpu: os.cpus()[0]?.model, load: os.loadavg()[0], results }, null, 2)}\n`,
  );
}
