import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelRow } from '../../../src/main/engine/data/labels.js';
import type { ImageScan } from '../../../src/main/engine/data/scan.js';
import { loadValBatch, numpyArgsort, planValBatches } from '../../../src/main/engine/data/val-loader.js';

const row = (cls: number, cx: number, cy: number, w: number, h: number): LabelRow => ({
  cls,
  cx,
  cy,
  w,
  h,
  line: 1,
  polygon: false,
});
const scan = (name: string, width: number, height: number, rows: LabelRow[] = [], ok = true): ImageScan => ({
  imageFile: name,
  labelFile: `${name}.txt`,
  ok,
  width,
  height,
  rows,
  labelFileExists: rows.length > 0,
  droppedRows: 0,
  problems: [],
});

describe('planValBatches (LoadImagesAndLabels rect=True, pad=0.5)', () => {
  it('gives each batch ceil(shape * img / 32 + 0.5) * 32, shape from the extreme h/w of the batch', () => {
    const images = [scan('p', 480, 640), scan('l1', 640, 480), scan('l2', 640, 427), scan('sq', 500, 500)];
    const plan = planValBatches(images, { imgSize: 640, batchSize: 2 });
    // Sorted by h/w: 427/640, 480/640 | 1, 640/480.
    expect(plan.map((b) => b.images.map((i) => i.imageFile))).toEqual([
      ['l2', 'l1'],
      ['sq', 'p'],
    ]);
    expect(plan[0]!.shape).toEqual([512, 672]); // maxi 0.75: ceil(15 + 0.5) * 32
    expect(plan[1]!.shape).toEqual([672, 672]); // mixed: [1, 1]
    const portrait = planValBatches([scan('p', 480, 640)], { imgSize: 320, batchSize: 4 });
    expect(portrait[0]!.shape).toEqual([352, 256]); // [1, 1/mini]: ceil(7.5 + 0.5) * 32
  });
  it('skips unusable images; rect off gives square batches in file order', () => {
    const images = [scan('a', 640, 480), scan('bad', 0, 0, [], false), scan('b', 480, 640), scan('c', 100, 100)];
    const plan = planValBatches(images, { imgSize: 320, batchSize: 2, rect: false });
    expect(plan.map((b) => [b.shape, b.images.map((i) => i.imageFile)])).toEqual([
      [
        [320, 320],
        ['a', 'b'],
      ],
      [[320, 320], ['c']],
    ]);
  });
});

describe('numpyArgsort', () => {
  it('sorts ascending, returns a permutation, keeps small runs of ties in order (insertion sort)', () => {
    const v = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 13) / 3);
    const a = numpyArgsort(v);
    expect([...a].sort((x, y) => x - y)).toEqual(v.map((_, i) => i));
    for (let i = 1; i < a.length; i++) expect(v[a[i]!]!).toBeGreaterThanOrEqual(v[a[i - 1]!]!);
    expect(numpyArgsort([2, 1, 1, 0, 1])).toEqual([3, 1, 2, 4, 0]);
    expect(numpyArgsort([])).toEqual([]);
  });
});

describe('loadValBatch', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'freezelab-val-'));
    // 200x100, left half black, right half white.
    const px = Buffer.alloc(200 * 100 * 3);
    for (let y = 0; y < 100; y++)
      for (let x = 100; x < 200; x++) px.fill(255, (y * 200 + x) * 3, (y * 200 + x) * 3 + 3);
    await sharp(px, { raw: { width: 200, height: 100, channels: 3 } })
      .png()
      .toFile(path.join(dir, 'a.png'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('load_image enlarges with int() sizes; letterbox pads with 114; labels come back in original pixels', async () => {
    const s = scan(path.join(dir, 'a.png'), 200, 100, [row(3, 0.75, 0.5, 0.5, 0.5), row(1, 0.1, 0.1, 0.4, 0.4)]);
    const [plan] = planValBatches([s], { imgSize: 64, batchSize: 1 });
    expect(plan!.shape).toEqual([64, 96]); // [0.5, 1]: ceil(1 + 0.5) * 32 by ceil(2 + 0.5) * 32
    const b = await loadValBatch(plan!, 64);
    expect(b.data.length).toBe(64 * 96 * 3);
    const at = (x: number, y: number): number => b.data[(y * 96 + x) * 3]!;
    const grey = Math.fround(114 / 255);
    // Resized to 64x32 (int(200 * 0.32), int(100 * 0.32)), padded 16 on every side.
    expect([at(0, 0), at(15, 30), at(16, 15)]).toEqual([grey, grey, grey]);
    expect([at(16, 16), at(47, 47), at(48, 16), at(79, 47), at(80, 20)]).toEqual([0, 0, 1, 1, grey]);
    const im = b.images[0]!;
    expect(im.originalShape).toEqual([100, 200]);
    expect(im.ratioPad[0]).toBeCloseTo(0.32, 12);
    expect(im.ratioPad[1]).toEqual([16, 16]);
    expect(Array.from(im.cls)).toEqual([3, 1]);
    const boxes = Array.from(im.boxes);
    [100, 25, 200, 75, 0, 0, 60, 30].forEach((v, i) => expect(boxes[i]).toBeCloseTo(v, 6));
  });
  it('names the file when an image cannot be decoded', async () => {
    const bad = path.join(dir, 'bad.jpg');
    await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } })
      .png()
      .toFile(path.join(dir, 'ok.png'));
    writeFileSync(bad, 'not a jpeg');
    const [plan] = planValBatches([scan(path.join(dir, 'ok.png'), 4, 4), scan(bad, 4, 4)], {
      imgSize: 32,
      batchSize: 2,
      rect: false,
    });
    await expect(loadValBatch(plan!, 32)).rejects.toThrow(/Cannot read image .*bad\.jpg/);
  });
});
