import { describe, expect, it } from 'vitest';
import { CacheBudgetError, ImageStore, cacheBytes } from '../../../src/main/engine/data/cache.js';

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
