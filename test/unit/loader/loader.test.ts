import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheBudgetError, cacheBytes } from '../../../src/main/engine/data/cache.js';
import { type Batch, type TrainLoaderOptions, createTrainLoader } from '../../../src/main/engine/data/loader.js';
import type { ImageScan } from '../../../src/main/engine/data/scan.js';
import { loadValBatch, planValBatches } from '../../../src/main/engine/data/val-loader.js';
import { FULL_AUG, type Fixture, NO_AUG, makeDataset, writeCorrupt } from './fixtures.js';

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('createTrainLoader on generated images', () => {
  let fx: Fixture;
  const base = (): TrainLoaderOptions => ({
    imgSize: 64,
    batchSize: 4,
    hyp: FULL_AUG,
    augment: true,
    seed: 11,
    cache: false,
    shuffle: true,
  });
  beforeAll(async () => {
    fx = await makeDataset(10);
  });
  afterAll(() => fx.cleanup());

  it('gives identical batches for one seed, other batches for another seed or epoch', async () => {
    const a = await collect(createTrainLoader(fx.items, base()).epoch(0));
    const b = await collect(createTrainLoader(fx.items, base()).epoch(0));
    expect(a.length).toBe(3);
    expect(a.map((x) => x.shape)).toEqual([
      [4, 64, 64, 3],
      [4, 64, 64, 3],
      [2, 64, 64, 3],
    ]);
    for (let i = 0; i < a.length; i++) {
      expect(b[i]!.images).toEqual(a[i]!.images);
      expect(b[i]!.targets).toEqual(a[i]!.targets);
      expect(b[i]!.paths).toEqual(a[i]!.paths);
    }
    const other = await createTrainLoader(fx.items, { ...base(), seed: 12 }).batch(0, 0);
    expect(other.images).not.toEqual(a[0]!.images);
    const nextEpoch = await createTrainLoader(fx.items, base()).batch(1, 0);
    expect(nextEpoch.images).not.toEqual(a[0]!.images);
    // Every image appears once per epoch (as the first tile of its mosaic).
    expect(a.flatMap((x) => x.paths).sort()).toEqual(fx.items.map((i) => i.imageFile).sort());
  });

  it('reproduces epoch k when resumed there, and with the RAM cache', async () => {
    const first = createTrainLoader(fx.items, base());
    await collect(first.epoch(0));
    const e1 = await collect(first.epoch(1));
    const resumed = createTrainLoader(fx.items, { ...base(), cache: 'ram', prefetch: 2 });
    const r1 = await collect(resumed.epoch(1));
    expect(resumed.cacheBytes).toBe(cacheBytes(fx.items, 64));
    expect(r1.map((b) => b.images)).toEqual(e1.map((b) => b.images));
    expect(r1.map((b) => b.targets)).toEqual(e1.map((b) => b.targets));
    const again = await collect(resumed.epoch(1)); // now served from the cache
    expect(again.map((b) => b.images)).toEqual(e1.map((b) => b.images));
  });

  it('refuses a RAM cache over its budget with a message saying what to do', () => {
    const need = cacheBytes(fx.items, 64);
    expect(() => createTrainLoader(fx.items, { ...base(), cache: 'ram', cacheBudgetBytes: need - 1 })).toThrow(
      CacheBudgetError,
    );
    expect(() => createTrainLoader(fx.items, { ...base(), cache: 'ram', cacheBudgetBytes: need - 1 })).toThrow(
      /10 images at size 64/,
    );
    expect(createTrainLoader(fx.items, { ...base(), cache: 'ram', cacheBudgetBytes: need }).cacheBytes).toBe(need);
  });

  it('fliplr mirrors the image and maps cx to 1 - cx exactly', async () => {
    const opts = { ...base(), hyp: NO_AUG, shuffle: false };
    const plain = await createTrainLoader(fx.items, opts).sample(0, 0);
    const flipped = await createTrainLoader(fx.items, { ...opts, hyp: { ...NO_AUG, fliplr: 1 } }).sample(0, 0);
    expect(plain.labels.length).toBe(5);
    expect(Math.abs(plain.labels[1]! - 0.5)).toBeGreaterThan(0.05);
    expect(flipped.labels[1]).toBe(1 - plain.labels[1]!);
    expect([0, 2, 3, 4].map((k) => flipped.labels[k])).toEqual([0, 2, 3, 4].map((k) => plain.labels[k]));
    const { width: w, data } = plain.image;
    for (const [x, y] of [
      [0, 0],
      [5, 30],
      [63, 63],
    ] as const) {
      const p = (y * w + x) * 3;
      const q = (y * w + (w - 1 - x)) * 3;
      expect(Array.from(flipped.image.data.subarray(q, q + 3))).toEqual(Array.from(data.subarray(p, p + 3)));
    }
    const ud = await createTrainLoader(fx.items, { ...opts, hyp: { ...NO_AUG, flipud: 1 } }).sample(0, 0);
    expect(ud.labels[2]).toBe(1 - plain.labels[2]!);
  });

  it('without augmentation equals the validation preprocessing (val-loader, square batches)', async () => {
    const loader = createTrainLoader(fx.items, { ...base(), augment: false, shuffle: false, hyp: FULL_AUG });
    const batch = await loader.batch(0, 1);
    const scans = fx.items.map((i) => ({ ...i, ok: true }) as unknown as ImageScan);
    const plan = planValBatches(scans, { imgSize: 64, batchSize: 4, rect: false });
    const val = await loadValBatch(plan[1]!, 64);
    expect(val.shape).toEqual([64, 64]);
    expect(batch.images).toEqual(val.data);
    val.images.forEach((im, k) => {
      // Targets back to original pixels as val.py's scale_boxes does: ((x - pad) / gain).
      const [gain, [pw, ph]] = im.ratioPad;
      const t = batch.targets.subarray(k * 6, k * 6 + 6);
      const [cx, cy, w, h] = [t[2]! * 64, t[3]! * 64, t[4]! * 64, t[5]! * 64];
      const back = [
        (cx - w / 2 - pw) / gain,
        (cy - h / 2 - ph) / gain,
        (cx + w / 2 - pw) / gain,
        (cy + h / 2 - ph) / gain,
      ];
      expect([t[0], t[1]]).toEqual([k, im.cls[0]]);
      back.forEach((v, j) => expect(v).toBeCloseTo(im.boxes[j]!, 3));
    });
    expect(batch.paths).toEqual(val.images.map((i) => i.scan.imageFile));
  });

  it('skips a corrupt image with a warning and finishes the epoch', async () => {
    const bad = await writeCorrupt(fx.dir, 'broken.png');
    const items = [
      ...fx.items.slice(0, 3),
      { imageFile: bad, width: 50, height: 50, rows: [{ cls: 0, cx: 0.5, cy: 0.5, w: 0.2, h: 0.2 }] },
      ...fx.items.slice(3),
    ];
    const warnings: string[] = [];
    const plain = createTrainLoader(items, {
      ...base(),
      augment: false,
      shuffle: false,
      onWarning: (m) => warnings.push(m),
    });
    const batches = await collect(plain.epoch(0));
    expect(batches.flatMap((b) => b.paths)).toEqual(
      [...items.slice(0, 3), items[4], ...items.slice(4)].map((i) => i!.imageFile),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/broken\.png.*skipped/);
    const mosaic = createTrainLoader(items, { ...base(), batchSize: 11 });
    const [b] = await collect(mosaic.epoch(0));
    expect(b!.shape[0]).toBe(11);
    expect(b!.paths).not.toContain(bad);
    expect(mosaic.warnings).toHaveLength(1);
  });

  it('builds rectangular batches sorted by aspect ratio, in multiples of the stride', async () => {
    const loader = createTrainLoader(fx.items, { ...base(), imgSize: 96, rect: true, augment: false });
    const ars = loader.items.map((i) => i.height / i.width);
    expect(ars).toEqual([...ars].sort((x, y) => x - y));
    for (let b = 0; b < loader.batchesPerEpoch; b++) {
      const batch = await loader.batch(0, b);
      const [, h, w] = batch.shape;
      expect(h % 32 === 0 && w % 32 === 0 && Math.max(h, w) === 96).toBe(true);
      const group = ars.slice(b * 4, b * 4 + 4);
      if (Math.max(...group) < 1) expect(h).toBe(Math.ceil((Math.max(...group) * 96) / 32) * 32);
    }
  });
});
