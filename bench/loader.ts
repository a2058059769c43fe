/**
 * Training loader throughput on coco128: batches per second at img 320, batch 16, with
 * hyp.scratch-low augmentation (mosaic, random_perspective, HSV, fliplr), without and with the RAM
 * cache; plus milliseconds per 640 mosaic and per 640 warpAffine / HSV pass.
 * Run: `node --import tsx bench/loader.ts` (needs ../shared or FREEZELAB_SHARED).
 * Prints the figures and writes them to bench/results/loader.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type AugmentHyp, augmentHsv } from '../src/main/engine/data/augment.js';
import { warpAffine } from '../src/main/engine/data/warp.js';
import { scanDataset } from '../src/main/engine/data/check.js';
import { loadDataConfig } from '../src/main/engine/data/config.js';
import { type TrainLoader, createTrainLoader } from '../src/main/engine/data/loader.js';
import { Rng } from '../src/main/engine/data/random.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.env.FREEZELAB_SHARED ?? path.resolve(root, '..', 'shared');
const hyp = parse(
  readFileSync(path.join(sharedDir, 'reference', 'models', 'hyp.scratch-low.yaml'), 'utf8'),
) as AugmentHyp;
const cfg = await loadDataConfig(path.join(sharedDir, 'data', 'coco128', 'coco128.yaml'));
const [train] = await scanDataset(cfg, { decode: 'header' });
const items = train!.images;

/** Seconds to iterate one epoch. */
async function epochSeconds(loader: TrainLoader, e: number): Promise<number> {
  const t0 = performance.now();
  for await (const b of loader.epoch(e)) void b;
  return (performance.now() - t0) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const base = { imgSize: 320, batchSize: 16, hyp, augment: true, seed: 0, shuffle: true } as const;
const nb = Math.ceil(items.length / 16);

// Without cache: every epoch decodes every image (four per mosaic).
const plain = createTrainLoader(items, { ...base, cache: false });
await epochSeconds(plain, 0); // warm-up (JIT)
const plainSec = median([await epochSeconds(plain, 1), await epochSeconds(plain, 2)]);

// With the RAM cache: epoch 0 fills it, later epochs only augment.
const cached = createTrainLoader(items, { ...base, cache: 'ram' });
const fillSec = await epochSeconds(cached, 0);
const cachedSec = median([await epochSeconds(cached, 1), await epochSeconds(cached, 2)]);

// One 640 mosaic (4 cached tiles, warp, HSV, flip) and its two heaviest steps alone.
const big = createTrainLoader(items, { ...base, imgSize: 640, batchSize: 1, cache: 'ram', hyp: { ...hyp, mosaic: 1 } });
for (let i = 0; i < 16; i++) await big.sample(0, i); // fill the tiles used below and warm up
const mosaicMs: number[] = [];
for (let i = 0; i < 16; i++) {
  const t0 = performance.now();
  await big.sample(1, i % 4); // epoch 1 positions 0..3: tiles cached from the warm-up where drawn
  mosaicMs.push(performance.now() - t0);
}
const canvas = await big.sample(0, 0);
const src = { ...canvas.image, data: new Uint8Array(1280 * 1280 * 3) };
for (let i = 0; i < src.data.length; i++) src.data[i] = canvas.image.data[i % canvas.image.data.length]!;
const warpMs: number[] = [];
const hsvMs: number[] = [];
for (let i = 0; i < 8; i++) {
  let t0 = performance.now();
  const out = warpAffine({ ...src, width: 1280, height: 1280 }, [0.9, 0.05, -250, -0.05, 0.9, -300], 640, 640);
  warpMs.push(performance.now() - t0);
  t0 = performance.now();
  augmentHsv(out, hyp.hsv_h, hyp.hsv_s, hyp.hsv_v, new Rng(i));
  hsvMs.push(performance.now() - t0);
}

const result = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadavg1: os.loadavg()[0] },
  dataset: 'coco128 (train)',
  images: items.length,
  imgSize: 320,
  batchSize: 16,
  batchesPerEpoch: nb,
  noCache: { secondsPerEpoch: plainSec, batchesPerSecond: nb / plainSec },
  ramCache: {
    fillEpochSeconds: fillSec,
    secondsPerEpoch: cachedSec,
    batchesPerSecond: nb / cachedSec,
    cacheMB: cached.cacheBytes / 1e6,
  },
  mosaic640MsMedian: median(mosaicMs),
  warpAffine1280to640MsMedian: median(warpMs),
  hsv640MsMedian: median(hsvMs),
};
console.log(
  `coco128 img 320 batch 16, hyp.scratch-low: no cache ${result.noCache.batchesPerSecond.toFixed(2)} batches/s ` +
    `(${plainSec.toFixed(2)} s/epoch); RAM cache ${result.ramCache.batchesPerSecond.toFixed(2)} batches/s ` +
    `(${cachedSec.toFixed(2)} s/epoch, first epoch ${fillSec.toFixed(2)} s, ${result.ramCache.cacheMB.toFixed(1)} MB)`,
);
console.log(
  `640 mosaic item ${result.mosaic640MsMedian.toFixed(1)} ms; warpAffine 1280->640 ${result.warpAffine1280to640MsMedian.toFixed(1)} ms; ` +
    `HSV 640 ${result.hsv640MsMedian.toFixed(1)} ms (load average ${result.machine.loadavg1?.toFixed(2)})`,
);
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'loader.json'), `${JSON.stringify(result, null, 2)}\n`);
