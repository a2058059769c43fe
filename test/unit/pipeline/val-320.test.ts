import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadDataConfig, type DataConfig } from '../../../src/main/engine/data/config.js';
import { scanSplit, validate, type ValProgress } from '../../../src/main/engine/eval/validate.js';
import type { YoloModel } from '../../../src/main/engine/model/forward.js';
import { instantiateModel, resolveModelSource } from '../../../src/main/engine/model/source.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { describeShared, shared } from '../../helpers/shared.js';

// Official val.py figures for yolov5n.pt on coco128 at img 320 (reference/README.md).
const REF_320 = { P: 0.477, R: 0.438, mAP50: 0.457, mAP50_95: 0.288 };

describeShared('validate (val.py) on coco128 with yolov5n.pt', () => {
  let model: YoloModel;
  let cfg: DataConfig;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    model = instantiateModel(await resolveModelSource(shared('weights', 'yolov5n.pt'))).model;
    cfg = await loadDataConfig(shared('data', 'coco128', 'coco128.yaml'));
  });
  afterAll(() => model.dispose());

  it('reproduces the img 320 figures (mAP within 0.01, P and R within 0.02), reporting every batch', async () => {
    const progress: ValProgress[] = [];
    const before = tf.memory().numTensors;
    const r = await validate(model, {
      data: shared('data', 'coco128', 'coco128.yaml'),
      imgSize: 320,
      batchSize: 16,
      onProgress: (p) => progress.push(p),
    });
    expect(tf.memory().numTensors).toBe(before);
    console.log(
      `coco128 val 320: P ${r.precision.toFixed(4)} R ${r.recall.toFixed(4)} mAP50 ${r.map50.toFixed(4)} mAP50-95 ${r.map50_95.toFixed(4)}; ` +
        `${r.imagesPerSecond.toFixed(2)} images/s, peak ${(r.peakTensorBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    expect([r.images, r.instances]).toEqual([128, 929]);
    expect(Math.abs(r.map50 - REF_320.mAP50)).toBeLessThan(0.01);
    expect(Math.abs(r.map50_95 - REF_320.mAP50_95)).toBeLessThan(0.01);
    expect(Math.abs(r.precision - REF_320.P)).toBeLessThan(0.02);
    expect(Math.abs(r.recall - REF_320.R)).toBeLessThan(0.02);
    expect(progress.map((p) => p.batch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress.at(-1)).toMatchObject({ batches: 8, images: 128, totalImages: 128 });
    expect(r.peakTensorBytes).toBeGreaterThan(0);
  }, 240_000); // ~13 s alone, 50 s measured on a loaded machine

  it('takes a pre-scanned split and stops at the next batch when aborted, freeing its tensors', async () => {
    const images = (await scanSplit(cfg, 'val')).slice(0, 8);
    const ac = new AbortController();
    const seen: number[] = [];
    const before = tf.memory().numTensors;
    await expect(
      validate(model, {
        data: cfg,
        images,
        imgSize: 160,
        batchSize: 2,
        signal: ac.signal,
        onProgress: (p) => {
          seen.push(p.batch);
          ac.abort();
        },
      }),
    ).rejects.toThrow(/abort/i);
    expect(seen).toEqual([1]);
    expect(tf.memory().numTensors).toBe(before);
    const small = await validate(model, { data: cfg, images, imgSize: 160, batchSize: 3 });
    expect(small.images).toBe(8);
  });

  it('refuses a model whose class count differs from the dataset', async () => {
    const other = instantiateModel(await resolveModelSource('n', { nc: 3 })).model;
    try {
      await expect(validate(other, { data: cfg, imgSize: 160 })).rejects.toThrow(
        /3 classes but .*coco128\.yaml has 80/,
      );
    } finally {
      other.dispose();
    }
  });
});
