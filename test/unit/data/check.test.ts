import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataset } from '../../../src/main/engine/data/check.js';
import { parseLabels } from '../../../src/main/engine/data/labels.js';
import { scanImage } from '../../../src/main/engine/data/scan.js';
import { describeShared, shared } from '../../helpers/shared.js';

let root: string;

async function png(file: string, w: number, h: number): Promise<void> {
  await sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 10, b: 10 } } })
    .png()
    .toFile(file);
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'freezelab-check-'));
  for (const d of ['images/train', 'labels/train', 'images/val', 'labels/val'])
    mkdirSync(path.join(root, d), { recursive: true });
  await png(path.join(root, 'images/train/good.png'), 32, 24);
  writeFileSync(path.join(root, 'labels/train/good.txt'), '0 0.5 0.5 0.25 0.25\n1 0.2 0.2 0.1 0.1\n');
  await png(path.join(root, 'images/train/bg.png'), 32, 24);
  await png(path.join(root, 'images/train/empty.png'), 32, 24);
  writeFileSync(path.join(root, 'labels/train/empty.txt'), '\n');
  await png(path.join(root, 'images/train/tiny.png'), 5, 5);
  await png(path.join(root, 'images/train/bad.png'), 32, 24);
  writeFileSync(
    path.join(root, 'labels/train/bad.txt'),
    [
      '0 0.5 0.5 0.2 0.2',
      '0 0.5 0.5 0.2',
      '0 0.5 abc 0.2 0.2',
      '2 0.5 0.5 0.2 0.2',
      '0.5 0.5 0.5 0.2 0.2',
      '1 1.2 0.5 0.2 0.2',
      '1 0.5 0.5 0 0.2',
      '0 0.5 0.5 0.2 0.2',
      '',
      '1 0.1 0.1 0.3 0.1 0.3 0.4',
      '1 0.1 0.1 0.3 0.1 0.3',
    ].join('\n'),
  );
  const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
  const jpeg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg()
    .toBuffer();
  writeFileSync(path.join(root, 'images/train/broken.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  writeFileSync(path.join(root, 'labels/train/orphan.txt'), '0 0.5 0.5 0.1 0.1\n');
  writeFileSync(path.join(root, 'images/train/notes.txt'), 'not an image');
  // val: a .txt image list (./ relative to the list, as YOLOv5) pointing at train images
  writeFileSync(path.join(root, 'val.txt'), './images/train/good.png\nimages/train/bg.png\n');
  writeFileSync(
    path.join(root, 'data.yaml'),
    'path: .\ntrain: images/train\nval: val.txt\nnames: {0: cat, 1: dog}\ndownload: https://example.invalid/x.zip\n',
  );
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('parseLabels', () => {
  it('reports each bad kind with one message format and keeps good rows', () => {
    const p = parseLabels(readFileSync(path.join(root, 'labels/train/bad.txt'), 'utf8'), 2);
    expect(p.problems.map((x) => `${x.severity} ${x.line}: ${x.reason}`)).toEqual([
      'error 2: expected 5 values (class cx cy w h), got 4',
      'error 3: value 3 is not a number: "abc"',
      'error 4: class id 2 is not an integer in 0..1',
      'error 5: class id 0.5 is not an integer in 0..1',
      'error 6: coordinate cx=1.2 outside [0, 1]',
      'warning 7: zero-area box (w 0, h 0.2)',
      'warning 8: duplicate of line 1, dropped',
      'error 11: expected 5 values (class cx cy w h), got 6',
    ]);
    expect(p.rows.map((r) => r.line)).toEqual([1, 10]);
    const poly = p.rows[1]!;
    expect(poly.polygon).toBe(true);
    expect([poly.cls, poly.cx, poly.cy, poly.w, poly.h].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      1, 0.2, 0.25, 0.2, 0.3,
    ]);
    expect(p.dropped).toBe(8);
  });
});

describe('checkDataset', () => {
  for (const decode of ['full', 'header'] as const) {
    it(`lists every problem as file:line: reason and counts splits (decode ${decode})`, async () => {
      const r = await checkDataset(path.join(root, 'data.yaml'), { decode });
      const lines = r.problems.map((p) => `${p.severity} ${p.text}`);
      const broken = lines.find((l) => l.startsWith('error images/train/broken.jpg: '));
      expect(broken).toMatch(/^error images\/train\/broken\.jpg: cannot read image \(.+\); image skipped$/);
      expect(lines.filter((l) => l !== broken)).toEqual([
        'error images/train/tiny.png: image is 5x5, under 10 pixels a side; image skipped',
        'error labels/train/bad.txt:2: expected 5 values (class cx cy w h), got 4',
        'error labels/train/bad.txt:3: value 3 is not a number: "abc"',
        'error labels/train/bad.txt:4: class id 2 is not an integer in 0..1',
        'error labels/train/bad.txt:5: class id 0.5 is not an integer in 0..1',
        'error labels/train/bad.txt:6: coordinate cx=1.2 outside [0, 1]',
        'error labels/train/bad.txt:11: expected 5 values (class cx cy w h), got 6',
        'warning labels/train/bad.txt:7: zero-area box (w 0, h 0.2)',
        'warning labels/train/bad.txt:8: duplicate of line 1, dropped',
        'warning labels/train/orphan.txt: label file without a matching image; ignored',
        'info images/train/bg.png: no label file; used as a background image',
        'info images/train/empty.png: empty label file; used as a background image',
      ]);
      expect([r.errors, r.warnings, r.infos]).toEqual([8, 3, 2]);
      expect(r.names).toEqual(['cat', 'dog']);
      const [train, val] = r.splits;
      expect(train).toMatchObject({
        split: 'train',
        imagesFound: 6,
        images: 4,
        skippedImages: 2,
        backgrounds: 2,
        instances: 4,
        polygons: 1,
        droppedRows: 8,
      });
      expect(train!.perClass).toEqual([
        { classId: 0, name: 'cat', images: 2, instances: 2 },
        { classId: 1, name: 'dog', images: 2, instances: 2 },
      ]);
      expect(val).toMatchObject({ split: 'val', imagesFound: 2, images: 2, backgrounds: 1, instances: 2 });
      expect(r.ms).toBeGreaterThanOrEqual(0);
    });
  }

  it('reads EXIF orientation 6 as a 90-degree turn (width and height swapped)', async () => {
    const f = path.join(root, 'rot.jpg');
    await sharp({ create: { width: 30, height: 20, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(f);
    const s = await scanImage(f, 2, 'header');
    expect([s.ok, s.width, s.height]).toEqual([true, 20, 30]);
  });
});

describeShared('checkDataset on coco128', () => {
  it('counts 128 images, 929 instances, 2 backgrounds and the 2 label files without image', async () => {
    const r = await checkDataset(shared('data', 'coco128', 'coco128.yaml'));
    console.log(`checkDataset coco128 (full decode): ${r.ms} ms`);
    expect(r.nc).toBe(80);
    expect(r.errors).toBe(0);
    for (const s of r.splits) expect([s.images, s.instances, s.backgrounds]).toEqual([128, 929, 2]);
    expect(r.splits[0]!.perClass[0]).toEqual({ classId: 0, name: 'person', images: 61, instances: 254 });
    expect(r.problems.filter((p) => p.kind === 'orphan-label').length).toBe(2);
  });
});
