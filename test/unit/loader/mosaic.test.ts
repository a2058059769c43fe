import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainLoader } from '../../../src/main/engine/data/loader.js';
import { type MosaicSource, loadMosaic, mixup, xywhn2xyxy, xyxy2xywhn } from '../../../src/main/engine/data/mosaic.js';
import { Rng } from '../../../src/main/engine/data/random.js';
import { HYP_PRESETS } from '../../../src/shared/hyp.js';
import type { RgbImage } from '../../../src/main/engine/infer/resize.js';
import { FULL_AUG, type Fixture, NO_AUG, makeDataset } from './fixtures.js';

const COLOURS = [
  [200, 20, 20],
  [20, 200, 20],
  [20, 20, 200],
  [200, 200, 20],
  [20, 200, 200],
  [200, 20, 200],
] as const;

/** Image k: solid colour k, long side 64, with one box of class k over its central half. */
function solidSource(): MosaicSource {
  return {
    size: COLOURS.length,
    load: (k) => {
      const w = 64;
      const h = 40 + 4 * k;
      const data = new Uint8Array(w * h * 3);
      for (let i = 0; i < w * h; i++) data.set(COLOURS[k]!, i * 3);
      const image: RgbImage = { data, width: w, height: h, channels: 3 };
      return Promise.resolve({ image, rows: [{ cls: k, cx: 0.5, cy: 0.5, w: 0.5, h: 0.5 }] });
    },
  };
}

describe('loadMosaic', () => {
  it('tiles four images around the centre; every label sits on its own image', async () => {
    const zero = { degrees: 0, translate: 0, scale: 0, shear: 0, perspective: 0 };
    let multi = 0;
    for (let seed = 0; seed < 12; seed++) {
      const m = await loadMosaic(1, solidSource(), 64, zero, new Rng(seed));
      expect([m.image.width, m.image.height, m.image.data.length]).toEqual([64, 64, 64 * 64 * 3]);
      expect(m.index).toBe(1);
      const classes = new Set<number>();
      for (let i = 0; i < m.labels.length; i += 5) {
        const [c, x1, y1, x2, y2] = Array.from(m.labels.subarray(i, i + 5)) as [number, number, number, number, number];
        classes.add(c);
        expect(x1 >= 0 && y1 >= 0 && x2 <= 64 && y2 <= 64 && x2 - x1 > 2 && y2 - y1 > 2).toBe(true);
        const px = (Math.floor((y1 + y2) / 2) * 64 + Math.floor((x1 + x2) / 2)) * 3;
        expect(Array.from(m.image.data.subarray(px, px + 3))).toEqual(COLOURS[c]);
      }
      expect(classes.size).toBeLessThanOrEqual(4);
      if (classes.size > 1) multi++;
    }
    expect(multi).toBeGreaterThan(0);
  });
});

describe('mixup and label conversions', () => {
  it('blends pixels with the Beta ratio (truncated) and concatenates labels', () => {
    const img = (v: number): RgbImage => ({ data: new Uint8Array(12).fill(v), width: 2, height: 2, channels: 3 });
    const a = { image: img(100), labels: Float64Array.from([1, 0, 0, 1, 1]) };
    const b = { image: img(201), labels: Float64Array.from([2, 0, 0, 2, 2]) };
    const out = mixup(a, b, { beta: () => 0.25 } as unknown as Rng);
    expect(out.image.data[0]).toBe(175); // 25 + 150.75
    expect(Array.from(out.labels)).toEqual([1, 0, 0, 1, 1, 2, 0, 0, 2, 2]);
  });

  it('converts normalized xywh to padded pixel xyxy and back, clipping to the image', () => {
    const px = xywhn2xyxy([{ cls: 4, cx: 0.5, cy: 0.25, w: 0.2, h: 0.5 }], 100, 80, 10, 5);
    expect(Array.from(px)).toEqual([4, 50, 5, 70, 45]);
    const back = xyxy2xywhn(Float64Array.from([4, 40, 0, 60, 40]), 100, 80);
    expect(Array.from(back)).toEqual([4, 0.5, 0.25, 0.2, 0.5]);
    const clipped = xyxy2xywhn(Float64Array.from([0, -10, 70, 50, 90]), 100, 80);
    expect(clipped[1]).toBeCloseTo(0.25, 12);
    expect(clipped[3]).toBeCloseTo(0.5, 12);
    expect(clipped[4]! * 80).toBeCloseTo(80 - 1e-3 - 70, 9);
  });
});

describe('mosaic through the loader', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeDataset(6);
  });
  afterAll(() => fx.cleanup());

  it('gives img x img images with labels from up to four images, all in [0, 1]', async () => {
    const loader = createTrainLoader(fx.items, {
      imgSize: 64,
      batchSize: 6,
      hyp: { ...NO_AUG, mosaic: 1, translate: 0.1, scale: 0.3 },
      augment: true,
      seed: 3,
      cache: false,
      shuffle: true,
    });
    let multi = 0;
    for (let e = 0; e < 3; e++) {
      const b = await loader.batch(e, 0);
      expect(b.shape).toEqual([6, 64, 64, 3]);
      for (let k = 0; k < 6; k++) {
        const classes = new Set<number>();
        for (let t = 0; t < b.targets.length; t += 6) if (b.targets[t] === k) classes.add(b.targets[t + 1]!);
        expect(classes.size).toBeLessThanOrEqual(4);
        if (classes.size > 1) multi++;
      }
    }
    expect(multi).toBeGreaterThan(0);
  });

  it.each([
    ['full augmentation with mixup', FULL_AUG],
    ['the hyp.finetune preset', HYP_PRESETS.finetune],
  ])('keeps targets normalized and non-empty under %s', async (_, hyp) => {
    const loader = createTrainLoader(fx.items, {
      imgSize: 64,
      batchSize: 4,
      hyp,
      augment: true,
      seed: 9,
      cache: 'ram',
      shuffle: true,
    });
    let rows = 0;
    for (let e = 0; e < 3; e++) {
      for await (const b of loader.epoch(e)) {
        for (let t = 0; t < b.targets.length; t += 6) {
          const [cx, cy, w, h] = Array.from(b.targets.subarray(t + 2, t + 6)) as [number, number, number, number];
          for (const v of [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
            expect(v >= -1e-6 && v <= 1 + 1e-6).toBe(true);
          expect(w > 0 && h > 0).toBe(true);
          rows++;
        }
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of b.images) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        expect(lo >= 0 && hi <= 1).toBe(true);
      }
    }
    expect(rows).toBeGreaterThan(0);
  });
});
