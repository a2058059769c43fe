import { describe, expect, it } from 'vitest';
import { type RgbImage, resizeImage } from '../../../src/main/engine/infer/resize.js';

const solid = (w: number, h: number, v: number): RgbImage => ({
  data: new Uint8Array(w * h * 3).fill(v),
  width: w,
  height: h,
  channels: 3,
});

const img = (w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h, channels: 3 };
};

describe('resizeImage (OpenCV INTER_LINEAR / INTER_AREA)', () => {
  it('keeps a constant image constant and averages exactly on a 2x area shrink', () => {
    expect(Array.from(new Set(resizeImage(solid(37, 23, 99), 64, 40, 'linear').data))).toEqual([99]);
    expect(Array.from(new Set(resizeImage(solid(37, 23, 99), 11, 7, 'area').data))).toEqual([99]);
    const img: RgbImage = {
      data: Uint8Array.from([0, 0, 0, 10, 10, 10, 20, 20, 20, 31, 31, 31]),
      width: 2,
      height: 2,
      channels: 3,
    };
    expect(Array.from(resizeImage(img, 1, 1, 'area').data)).toEqual([15, 15, 15]); // 61/4 = 15.25
  });
  it('linear upscaling interpolates between neighbours', () => {
    const img: RgbImage = { data: Uint8Array.from([0, 0, 0, 100, 100, 100]), width: 2, height: 1, channels: 3 };
    const r = resizeImage(img, 4, 1, 'linear');
    expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([0, 25, 75, 100]);
  });
});

describe('resizeImage integer-factor shortcut (OpenCV resizeAreaFast)', () => {
  it('an exact 2x shrink averages 2x2 cells rounding half up, as OpenCV resizeAreaFast', () => {
    // Cell sums 2, 6, 10: (s + 2) >> 2 gives 1, 2, 3 (round-half-even of s/4 would give 0, 2, 2).
    const src = img(6, 2, (x) => [0, 2, 1, 2, 2, 3][x]!);
    for (const interp of ['linear', 'area'] as const) {
      const r = resizeImage(src, 3, 1, interp);
      expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([1, 2, 3]);
    }
  });
  it('other whole factors use sum * (1/area) rounded half to even', () => {
    // 3x1 cells: sums 3 and 4 -> 1 and round(1.333) = 1; 3x3 of 5s -> 5.
    const r = resizeImage(
      img(6, 1, (x) => [1, 1, 1, 2, 1, 1][x]!),
      2,
      1,
      'area',
    );
    expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([1, 1]);
    expect(
      new Set(
        resizeImage(
          img(9, 9, () => 5),
          3,
          3,
          'area',
        ).data,
      ),
    ).toEqual(new Set([5]));
  });
});
