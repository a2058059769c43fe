import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDemoDataset } from '../../../src/main/demo/dataset.js';
import { DEMO_CLASSES, drawScene } from '../../../src/main/demo/scene.js';
import { checkDataset } from '../../../src/main/engine/data/check.js';
import { tempDir } from '../../helpers/service.js';

describe('demo scenes', () => {
  it('are deterministic per seed and differ between seeds and domains', () => {
    const a = drawScene('A', 5, 96);
    expect(drawScene('A', 5, 96).pixels).toEqual(a.pixels);
    expect(drawScene('A', 6, 96).pixels).not.toEqual(a.pixels);
    expect(drawScene('B', 5, 96).pixels).not.toEqual(a.pixels);
  });

  it('label every shape with a box inside the image around its pixels', () => {
    for (let seed = 0; seed < 40; seed++) {
      for (const domain of ['A', 'B'] as const) {
        const scene = drawScene(domain, seed, 128);
        expect(scene.labels.length).toBeGreaterThanOrEqual(1);
        for (const [cls, cx, cy, w, h] of scene.labels) {
          expect(cls).toBeGreaterThanOrEqual(0);
          expect(cls).toBeLessThan(DEMO_CLASSES.length);
          expect(cx - w / 2).toBeGreaterThanOrEqual(0);
          expect(cy - h / 2).toBeGreaterThanOrEqual(0);
          expect(cx + w / 2).toBeLessThanOrEqual(1);
          expect(cy + h / 2).toBeLessThanOrEqual(1);
          expect(w * 128).toBeGreaterThan(10);
        }
      }
    }
  });

  it('domain B is darker than domain A (the shift the demo fine-tunes across)', () => {
    const mean = (px: Uint8Array) => px.reduce((a, v) => a + v, 0) / px.length;
    expect(mean(drawScene('B', 1, 128).pixels)).toBeLessThan(mean(drawScene('A', 1, 128).pixels) - 60);
  });
});

describe('demo dataset', () => {
  it('is a valid YOLO dataset the checker passes without errors, and is not rewritten when present', async () => {
    const root = path.join(tempDir('freezelab-demo-'), 'b');
    const spec = { domain: 'B' as const, train: 12, val: 4, size: 96, seed: 3 };
    const progress: number[] = [];
    const yaml = await writeDemoDataset(root, spec, (done) => progress.push(done));
    expect(progress.at(-1)).toBe(16);
    const report = await checkDataset(yaml);
    expect(report.errors).toBe(0);
    expect(report.names).toEqual([...DEMO_CLASSES]);
    expect(report.splits.map((s) => [s.split, s.images])).toEqual([
      ['train', 12],
      ['val', 4],
    ]);
    const before = readFileSync(
      path.join(root, 'labels', 'train', readdirSync(path.join(root, 'labels', 'train'))[0]!),
    );
    const again: number[] = [];
    await writeDemoDataset(root, spec, (done) => again.push(done));
    expect(again).toEqual([]);
    expect(
      readFileSync(path.join(root, 'labels', 'train', readdirSync(path.join(root, 'labels', 'train'))[0]!)),
    ).toEqual(before);
  });
});
