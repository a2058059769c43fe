import { describe, expect, it } from 'vitest';
import {
  CacheBudgetError,
  ImageStore,
  cacheBytes,
  loadImageResize,
  resizedSize,
} from '../../../src/main/engine/data/cache.js';
import { resizeImage } from '../../../src/main/engine/infer/resize.js';
import type { RgbImage } from '../../../src/main/engine/infer/resize.js';

function image(w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h, channels: 3 };
}

describe('load_image resize', () => {
  it('sizes the long side to img, truncating the other side as v7.0 does', () => {
    expect(resizedSize(640, 427, 320)).toEqual([320, 213]);
    expect(resizedSize(50, 30, 64)).toEqual([64, 38]);
    expect(resizedSize(64, 10, 64)).toEqual([64, 10]);
    expect(resizedSize(2000, 10, 64)).toEqual([64, 1]);
  });

  it('takes OpenCV area-fast on whole-factor shrinks: (sum + 2) >> 2 for 2x2, also when augmenting', () => {
    // Every 2x2 block sums to 10 (mean 2.5): the general area kernel would round to even (2).
    const blocks = image(6, 4, (x, y) => [1, 2, 3, 4][(y % 2) * 2 + (x % 2)]!);
    for (const augment of [false, true])
      expect(Array.from(loadImageResize(blocks, 3, augment).data)).toEqual(new Array(18).fill(3));
    // 4x area: cvRound(sum / 16) per block.
    const four = loadImageResize(
      image(8, 4, (x) => (x < 4 ? 0 : 8)),
      2,
      false,
    );
    expect(Array.from(four.data)).toEqual([0, 0, 0, 8, 8, 8]);
  });

  it('uses the general kernels for other factors and keeps an image already at size', () => {
    const img = image(50, 30, (x, y, c) => (x * 7 + y * 3 + c * 50) & 255);
    expect(loadImageResize(img, 64, false).data).toEqual(resizeImage(img, 64, 38, 'linear').data);
    expect(loadImageResize(img, 40, false).data).toEqual(resizeImage(img, 40, 24, 'area').data);
    expect(loadImageResize(img, 40, true).data).toEqual(resizeImage(img, 40, 24, 'linear').data);
    expect(loadImageResize(img, 50, true)).toBe(img);
  });
});

describe('ImageStore', () => {
  it('checks the RAM budget up front from the scanned sizes', () => {
    const entries = [
      { imageFile: '/nope/a.jpg', width: 640, height: 480 },
      { imageFile: '/nope/b.jpg', width: 300, height: 600 },
    ];
    const need = cacheBytes(entries, 320);
    expect(need).toBe(320 * 240 * 3 + 160 * 320 * 3);
    expect(cacheBytes([{ imageFile: '/nope/c.jpg', width: 640, height: 427 }], 320)).toBe(320 * 213 * 3);
    const err = (() => {
      try {
        new ImageStore(entries, { imgSize: 320, augment: true, cache: 'ram', budgetBytes: need - 1 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CacheBudgetError);
    expect((err as CacheBudgetError).hint).toMatch(/cache off/);
    expect(new ImageStore(entries, { imgSize: 320, augment: true, cache: false, budgetBytes: 0 }).plannedBytes).toBe(0);
  });

  it('names the file when an image cannot be read', async () => {
    const store = new ImageStore([{ imageFile: '/nope/missing.jpg', width: 10, height: 10 }], {
      imgSize: 32,
      augment: false,
      cache: 'ram',
    });
    await expect(store.load(0)).rejects.toThrow(/missing\.jpg/);
    expect(store.cachedImages).toBe(0);
  });
});
