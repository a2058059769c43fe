/** `model.val` and `model.detect` dispatched through the service, on the generated tiny dataset. */
import path from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelDetectResult, ModelValResult } from '../../../src/shared/contract.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';
import { tempDir } from '../../helpers/service.js';

let data: TinyDataset;
let service: Service;
let dataDir: string;

beforeAll(async () => {
  data = await makeTinyDataset({ val: 3, size: 64, classes: 2, seed: 7 });
  dataDir = tempDir();
  service = createService({
    host: 'cli',
    runJobs: false,
    paths: resolveDataPaths({ dataDir }, {}),
    loadBackend: () => initBackend({ prefer: 'wasm' }),
  });
});
afterAll(async () => {
  await service.close();
  rmSync(data.root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('model.val and model.detect through the service', () => {
  it('model.val evaluates a fresh n model with the dataset classes and names the missing weights', async () => {
    const r = await service.dispatch('model.val', {
      weights: 'n',
      data: data.yaml,
      imgSize: 64,
      batch: 2,
      backend: 'wasm',
      workers: 1,
    });
    if (!r.ok) throw new Error(r.error.message);
    const v = r.value as ModelValResult;
    expect(v.backend).toBe('wasm');
    expect(v.weights).toMatch(/yolov5n/);
    expect(v.data).toBe(path.resolve(data.yaml));
    expect(v.warning).toMatch(/has no trained weights/);
    expect([v.split, v.imgSize, v.batchSize, v.images, v.batches, v.workers]).toEqual(['val', 64, 2, 3, 2, 1]);
    expect(v.instances).toBeGreaterThan(0);
    for (const x of [v.precision, v.recall, v.map50, v.map50_95]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(v.perClass.every((c) => data.names.includes(c.name))).toBe(true);
    expect(v.seconds).toBeGreaterThan(0);
    expect(v.peakTensorBytes).toBeGreaterThan(0);
    // --workers: the batches on two replica threads, the same metrics.
    const pooled = await service.dispatch('model.val', {
      weights: 'n',
      data: data.yaml,
      imgSize: 64,
      batch: 2,
      workers: 2,
    });
    if (!pooled.ok) throw new Error(pooled.error.message);
    const p = pooled.value as ModelValResult;
    expect([p.workers, p.images, p.instances, p.perClass.length]).toEqual([
      2,
      v.images,
      v.instances,
      v.perClass.length,
    ]);
    expect(p.map50_95).toBeCloseTo(v.map50_95, 6);
  });

  it('model.detect lists detections in image pixels with the input and original shapes', async () => {
    const image = path.join(data.root, 'images', 'val', 'val0.png');
    const r = await service.dispatch('model.detect', { weights: 'n', source: image, imgSize: 64, conf: 0 });
    if (!r.ok) throw new Error(r.error.message);
    const d = r.value as ModelDetectResult;
    expect([d.source, d.backend]).toEqual([image, 'wasm']);
    expect(d.warning).toMatch(/has no trained weights/);
    expect(d.inputShape).toEqual([64, 64]);
    expect(d.originalShape).toEqual([64, 64]);
    expect(d.detections.length).toBeGreaterThan(0);
    for (const det of d.detections) {
      expect(det.conf).toBeGreaterThan(0);
      expect(det.xyxy).toHaveLength(4);
      expect(det.xyxy.every((c) => Number.isInteger(c) && c >= 0 && c <= 64)).toBe(true);
    }
    const few = await service.dispatch('model.detect', {
      weights: 'n',
      source: image,
      imgSize: 64,
      conf: 0,
      maxDet: 2,
    });
    expect(few.ok && (few.value as ModelDetectResult).detections.length).toBe(2);
  });

  it('refuses invalid input before loading anything, and a missing image or data YAML as values', async () => {
    const badSize = await service.dispatch('model.val', { weights: 'n', data: data.yaml, imgSize: 100 });
    expect(badSize.ok).toBe(false);
    if (!badSize.ok) {
      expect(badSize.error.code).toBe('invalid-input');
      expect(badSize.error.issues?.map((i) => i.path)).toEqual(['imgSize']);
    }
    const extra = await service.dispatch('model.val', { weights: 'n', data: data.yaml, split: 'holdout' });
    expect(!extra.ok && extra.error.issues?.map((i) => i.path)).toEqual(['split']);
    const noSource = await service.dispatch('model.detect', { weights: 'n', conf: 2 });
    expect(!noSource.ok && noSource.error.issues?.map((i) => i.path).sort()).toEqual(['conf', 'source']);
    const missing = await service.dispatch('model.detect', { weights: 'n', source: path.join(data.root, 'no.png') });
    expect(!missing.ok && missing.error.code).toBe('not-found');
    const noYaml = await service.dispatch('model.val', { weights: 'n', data: path.join(data.root, 'no.yaml') });
    expect(!noYaml.ok && noYaml.error.message).toMatch(/Dataset YAML not found/);
  });
});
