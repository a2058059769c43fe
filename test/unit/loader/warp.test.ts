import { describe, expect, it } from 'vitest';
import { warpAffine, warpPerspective } from '../../../src/main/engine/data/warp.js';
import type { RgbImage } from '../../../src/main/engine/infer/resize.js';
import { noise, px } from './fixtures.js';

describe('warpAffine / warpPerspective', () => {
  it('identity is the identity; integer shifts and 90-degree turns move pixels exactly', () => {
    const img = noise(23, 17, 1);
    expect(warpAffine(img, [1, 0, 0, 0, 1, 0], 23, 17).data).toEqual(img.data);
    expect(warpPerspective(img, [1, 0, 0, 0, 1, 0, 0, 0, 1], 23, 17).data).toEqual(img.data);
    const sh = warpAffine(img, [1, 0, 5, 0, 1, -3], 23, 17);
    expect(px(sh, 10, 4)).toEqual(px(img, 5, 7));
    expect(px(sh, 22, 13)).toEqual(px(img, 17, 16));
    expect(px(sh, 4, 4)).toEqual([114, 114, 114]); // from x = -1
    expect(px(sh, 10, 14)).toEqual([114, 114, 114]); // from y = 17
    expect(warpPerspective(img, [1, 0, 5, 0, 1, -3, 0, 0, 1], 23, 17).data).toEqual(sh.data);
    // (x, y) -> (h - 1 - y, x): a quarter turn onto a 17 x 23 canvas.
    const rot = warpAffine(img, [0, -1, 16, 1, 0, 0], 17, 23);
    for (const [x, y] of [
      [0, 0],
      [22, 16],
      [7, 3],
    ] as const)
      expect(px(rot, 16 - y, x)).toEqual(px(img, x, y));
  });

  it('samples bilinearly at half pixels with OpenCV rounding and a 114 border', () => {
    const img: RgbImage = { data: Uint8Array.from([10, 20, 30, 13, 40, 31]), width: 2, height: 1, channels: 3 };
    // dst(x) = src(x - 0.5): between the two source pixels for x = 1.
    const out = warpAffine(img, [1, 0, 0.5, 0, 1, 0], 2, 1);
    expect(px(out, 1, 0)).toEqual([12, 30, 31]); // (10 + 13) / 2 = 11.5 -> 12, 30.5 -> 31
    // The source row below is outside: half border.
    const down = warpAffine(img, [1, 0, 0, 0, 1, -0.5], 2, 1);
    expect(px(down, 0, 0)).toEqual([62, 67, 72]);
  });
});
