import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AugmentHyp } from '../../../src/main/engine/data/augment.js';
import { scanDataset } from '../../../src/main/engine/data/check.js';
import { loadDataConfig } from '../../../src/main/engine/data/config.js';
import { createTrainLoader } from '../../../src/main/engine/data/loader.js';
import type { ImageScan } from '../../../src/main/engine/data/scan.js';
import { readNpy } from '../../helpers/npy.js';
import { describeShared, shared } from '../../helpers/shared.js';

describeShared('training loader on coco128', () => {
  let images: readonly ImageScan[];
  let hyp: AugmentHyp;
  beforeAll(async () => {
    const cfg = await loadDataConfig(shared('data', 'coco128', 'coco128.yaml'));
    const [train] = await scanDataset(cfg, { decode: 'header' });
    images = train!.images;
    hyp = parse(readFileSync(shared('reference', 'models', 'hyp.scratch-low.yaml'), 'utf8')) as AugmentHyp;
  });

  it('without augmentation reproduces the letterboxed inputs and targets of the loss reference', async () => {
    const pick = ['000000000009.jpg', '000000000025.jpg'].map((n) =>
      images.find((i) => path.basename(i.imageFile) === n)!,
    );
    const loader = createTrainLoader(pick, {
      imgSize: 320,
      batchSize: 2,
      hyp,
      augment: false,
      seed: 0,
      cache: false,
      shuffle: false,
    });
    const batch = await loader.batch(0, 0);
    const refTargets = readNpy(shared('reference', 'loss-targets.npy'));
    expect(batch.targets.length).toBe(refTargets.data.length);
    batch.targets.forEach((v, i) => expect(Math.abs(v - refTargets.data[i]!)).toBeLessThan(1e-5));
    // Reference is NCHW; ours NHWC. Same libjpeg-turbo IDCT and OpenCV's area-fast rounding:
    // pixels agree exactly; allow a little for a different decoder build.
    const ref = readNpy(shared('reference', 'loss-input-nchw.npy'));
    const [n, c, h, w] = ref.shape as [number, number, number, number];
    expect(batch.shape).toEqual([n, h, w, c]);
    let equal = 0;
    let maxDiff = 0;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let k = 0; k < c; k++) {
            const r = Math.round(ref.data[((b * c + k) * h + y) * w + x]! * 255);
            const o = Math.round(batch.images[((b * h + y) * w + x) * c + k]! * 255);
            if (r === o) equal++;
            maxDiff = Math.max(maxDiff, Math.abs(r - o));
          }
        }
      }
    }
    expect(equal / ref.data.length).toBeGreaterThan(0.99);
    expect(maxDiff).toBeLessThanOrEqual(8);
  });

  it('runs a full-augmentation epoch at 320 with sane batches, reproducibly', async () => {
    const opts = {
      imgSize: 320,
      batchSize: 16,
      hyp: { ...hyp, mixup: 0.2, degrees: 3 },
      augment: true,
      seed: 5,
      cache: 'ram' as const,
      shuffle: true,
    };
    // Half of coco128 (4 batches) keeps the test short; mosaic tiles come from these 64 too.
    const half = images.slice(0, 64);
    const loader = createTrainLoader(half, opts);
    expect(loader.batchesPerEpoch).toBe(Math.ceil(half.filter((i) => i.ok).length / 16));
    let targets = 0;
    let first: Float32Array | undefined;
    for await (const b of loader.epoch(0)) {
      first ??= b.targets;
      expect(b.shape.slice(1)).toEqual([320, 320, 3]);
      const bad: number[][] = [];
      for (let t = 0; t < b.targets.length; t += 6) {
        const [bi, cls, cx, cy, w, h] = Array.from(b.targets.subarray(t, t + 6)) as [
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        const ok =
          bi >= 0 &&
          bi < b.shape[0] &&
          Number.isInteger(cls) &&
          cls >= 0 &&
          cls < 80 &&
          cx - w / 2 >= -1e-6 &&
          cx + w / 2 <= 1 + 1e-6 &&
          cy - h / 2 >= -1e-6 &&
          cy + h / 2 <= 1 + 1e-6 &&
          w * 320 > 2 - 1e-3 &&
          h * 320 > 2 - 1e-3;
        if (!ok) bad.push([bi, cls, cx, cy, w, h]);
      }
      expect(bad).toEqual([]);
      targets += b.targets.length / 6;
    }
    // coco128 has 929 boxes (about 7 an image); mosaic crops some and adds others.
    expect(targets).toBeGreaterThan(150);
    const again = await createTrainLoader(half, { ...opts, cache: false }).batch(0, 0);
    expect(again.targets).toEqual(first);
  });
});
