/** data.browse and data.image's thumbnail cache, through a real service. */
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowsePage } from '../../../src/shared/commands/dataset.js';
import { cachedPreview, pruneThumbs } from '../../../src/main/engine/infer/preview.js';
import { describeShared, shared } from '../../helpers/shared.js';
import { testService } from '../../helpers/service.js';
import { makeTinyDataset } from '../../helpers/tiny-dataset.js';

const service = testService();
afterAll(() => service.close());

async function browse(input: Record<string, unknown>): Promise<BrowsePage> {
  const r = await service.call('data.browse', input);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

function labelLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
}

describeShared('data.browse on coco128', () => {
  const yaml = shared('data', 'coco128', 'coco128.yaml');
  const labels = shared('data', 'coco128', 'labels', 'train2017');

  it('lists all 128 train images, each with as many boxes as its label file has lines, at file:line', async () => {
    const page = await browse({ data: yaml, split: 'train', limit: 1000 });
    expect(page.total).toBe(128);
    expect(page.splitImages).toBe(128);
    expect(page.images).toHaveLength(128);
    expect(page.names).toHaveLength(80);
    for (const im of page.images) {
      const lines = labelLines(path.join(labels, `${path.basename(im.name, '.jpg')}.txt`));
      expect(im.boxes.length, im.name).toBe(lines.length);
      expect(im.labelFile).toBe(`labels/train2017/${path.basename(im.name, '.jpg')}.txt`);
      im.boxes.forEach((b, i) => {
        expect(b.line).toBe(i + 1);
        expect(Number(lines[i]!.split(/\s+/)[0])).toBe(b.cls);
      });
    }
    // a known image: 000000000009.jpg has 8 rows (bowls, oranges, broccoli)
    const nine = page.images.find((i) => i.name.endsWith('000000000009.jpg'))!;
    expect(nine.boxes).toHaveLength(labelLines(path.join(labels, '000000000009.txt')).length);
    expect(nine.width).toBe(640);
    expect(nine.height).toBe(480);
  });

  it('filters by class: only images containing it, as many as label files containing it', async () => {
    // coco128 has 2 label files without an image (orphans): count the label files of its images
    const images = shared('data', 'coco128', 'images', 'train2017');
    const files = readdirSync(images).map((f) => `${path.basename(f, '.jpg')}.txt`);
    for (const cls of [0, 2, 45]) {
      const expected = files.filter((f) =>
        labelLines(path.join(labels, f)).some((l) => l.split(/\s+/)[0] === String(cls)),
      );
      const page = await browse({ data: yaml, split: 'train', class: cls, limit: 1000 });
      expect(page.total, `class ${cls}`).toBe(expected.length);
      expect(page.total).toBeGreaterThan(0);
      expect(page.images.every((i) => i.boxes.some((b) => b.cls === cls))).toBe(true);
      expect(page.classCounts[cls]!.images).toBe(expected.length);
      expect(page.splitImages).toBe(128);
    }
  });

  it('filters background images: the two without a label file', async () => {
    const page = await browse({ data: yaml, split: 'train', background: true });
    const images = readdirSync(shared('data', 'coco128', 'images', 'train2017'));
    const expected = images.filter(
      (f) => labelLines(path.join(labels, `${path.basename(f, '.jpg')}.txt`)).length === 0,
    );
    expect(expected).toHaveLength(2);
    expect(page.images.map((i) => path.basename(i.name)).sort()).toEqual(expected.sort());
    expect(page.backgrounds).toBe(2);
    expect(page.images.every((i) => i.boxes.length === 0 && i.problems.some((p) => p.kind === 'background'))).toBe(
      true,
    );
  });

  it('pages, and answers from memory after the first scan', async () => {
    const all = await browse({ data: yaml, split: 'train', limit: 1000 });
    const page = await browse({ data: yaml, split: 'train', offset: 100, limit: 10 });
    expect(page.scanMs).toBe(0);
    expect(page.offset).toBe(100);
    expect(page.images.map((i) => i.name)).toEqual(all.images.slice(100, 110).map((i) => i.name));
    const t0 = performance.now();
    await browse({ data: yaml, split: 'train', class: 0, limit: 50 });
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe('data.browse on a tiny dataset', () => {
  it('shows a broken label line as a problem at file:line, backgrounds, and filters by both', async () => {
    const ds = await makeTinyDataset({ train: 5, val: 2, seed: 7 });
    const broken = path.join(ds.root, 'labels', 'train', 'train1.txt');
    const before = labelLines(broken).length;
    await appendFile(broken, '0 0.5 0.5 0.2\n'); // 4 values: a field-count error on line before+1
    writeFileSync(path.join(ds.root, 'labels', 'train', 'train3.txt'), ''); // a background image
    const page = await browse({ data: ds.yaml, split: 'train' });
    expect(page.total).toBe(5);
    const im = page.images.find((i) => i.name === 'images/train/train1.png')!;
    expect(im.boxes).toHaveLength(before);
    expect(im.problems.map((p) => p.text)).toEqual([
      `labels/train/train1.txt:${before + 1}: expected 5 values (class cx cy w h), got 4`,
    ]);
    expect(page.problemKinds).toEqual(
      expect.arrayContaining([
        { kind: 'field-count', images: 1 },
        { kind: 'background', images: 1 },
      ]),
    );
    const bad = await browse({ data: ds.yaml, split: 'train', problem: 'field-count' });
    expect(bad.images.map((i) => i.name)).toEqual(['images/train/train1.png']);
    const bg = await browse({ data: ds.yaml, split: 'train', background: true });
    expect(bg.images.map((i) => i.name)).toEqual(['images/train/train3.png']);
    expect(bg.backgrounds).toBe(1);
    // the val split is its own index
    expect((await browse({ data: ds.yaml, split: 'val' })).total).toBe(2);
  });

  it('rescans when the YAML changes or on refresh, else answers from memory', async () => {
    const ds = await makeTinyDataset({ train: 3, val: 1, seed: 3 });
    expect((await browse({ data: ds.yaml, split: 'train' })).backgrounds).toBe(0);
    // a label edited behind the cache's back: not seen until refresh
    writeFileSync(path.join(ds.root, 'labels', 'train', 'train0.txt'), '');
    const stale = await browse({ data: ds.yaml, split: 'train', background: true });
    expect(stale.scanMs).toBe(0);
    expect(stale.total).toBe(0);
    const fresh = await browse({ data: ds.yaml, split: 'train', background: true, refresh: true });
    expect(fresh.images.map((i) => i.name)).toEqual(['images/train/train0.png']);
    // an edited YAML (new mtime) rescans by itself
    const yamlText = readFileSync(ds.yaml, 'utf8');
    writeFileSync(ds.yaml, yamlText.replace('train: images/train', 'train: images/val'));
    utimesSync(ds.yaml, new Date(), new Date(Date.now() + 5000));
    const moved = await browse({ data: ds.yaml, split: 'train' });
    expect(moved.images.map((i) => i.name)).toEqual(['images/val/val0.png']);
  });

  it('refuses a split the YAML lacks, naming the ones it has', async () => {
    const ds = await makeTinyDataset({ train: 1, val: 1 });
    const r = await service.call('data.browse', { data: ds.yaml, split: 'test' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/no test split \(it has train, val\)/);
  });
});

describe('data.image thumbnail cache', () => {
  it('writes a thumbnail under <dataDir>/thumbs and answers the second call from it', async () => {
    const ds = await makeTinyDataset({ train: 1, val: 1, size: 96 });
    const img = path.join(ds.root, 'images', 'train', 'train0.png');
    const first = await service.call('data.image', { path: img, maxSize: 64 });
    expect(first.ok).toBe(true);
    const dir = path.join(service.context.paths.dataDir, 'thumbs');
    const thumbs = readdirSync(dir).filter((f) => f.endsWith('.thumb'));
    expect(thumbs).toHaveLength(1);
    // Swap the cached JPEG for a different one: the next call must return it (read from the cache).
    const other = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00ff00' } })
      .jpeg()
      .toBuffer();
    const file = path.join(dir, thumbs[0]!);
    const header = readFileSync(file).subarray(0, 12);
    writeFileSync(file, Buffer.concat([header, other]));
    const second = await service.call('data.image', { path: img, maxSize: 64 });
    if (!second.ok || !first.ok) throw new Error('data.image failed');
    expect(second.value.dataUrl).toBe(`data:image/jpeg;base64,${other.toString('base64')}`);
    expect(second.value.width).toBe(96);
    expect(second.value.height).toBe(96);
    // large previews are not cached
    await service.call('data.image', { path: img, maxSize: 512 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.thumb'))).toHaveLength(1);
  });

  it('refuses a file that is not an image (served mode cannot read arbitrary files)', async () => {
    const ds = await makeTinyDataset({ train: 1, val: 1 });
    const r = await service.call('data.image', { path: ds.yaml, maxSize: 64 });
    expect(r.ok).toBe(false);
    expect(readdirSync(path.join(service.context.paths.dataDir, 'thumbs')).join()).not.toContain('tmp');
  });

  it('prunes the oldest thumbnails past the cap', async () => {
    const ds = await makeTinyDataset({ train: 4, val: 1 });
    const dir = path.join(ds.root, 'cache');
    for (let i = 0; i < 4; i++) await cachedPreview(dir, path.join(ds.root, 'images', 'train', `train${i}.png`), 64);
    const files = readdirSync(dir);
    expect(files).toHaveLength(4);
    const one = readFileSync(path.join(dir, files[0]!)).length;
    const deleted = await pruneThumbs(dir, one * 2);
    expect(deleted).toBeGreaterThanOrEqual(2);
    expect(readdirSync(dir).length).toBeLessThanOrEqual(2);
  });
});
