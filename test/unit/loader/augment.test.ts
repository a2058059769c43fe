import { describe, expect, it } from 'vitest';
import {
  augmentHsv,
  boxCandidates,
  flipLeftRight,
  flipUpDown,
  hsvToRgb8,
  randomPerspective,
  rgbToHsv8,
} from '../../../src/main/engine/data/augment.js';
import { Rng } from '../../../src/main/engine/data/random.js';
import type { RgbImage } from '../../../src/main/engine/infer/resize.js';
import { noise, px } from './fixtures.js';

describe('randomPerspective', () => {
  it('with translate only, moves boxes exactly as it moves the image content', () => {
    const w = 120;
    const h = 90;
    const data = new Uint8Array(w * h * 3).fill(114);
    const [bx1, by1, bx2, by2] = [40, 30, 60, 50];
    for (let y = by1; y < by2; y++)
      for (let x = bx1; x < bx2; x++) data.fill(250, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const img: RgbImage = { data, width: w, height: h, channels: 3 };
    const centroid = (im: RgbImage): [number, number] => {
      let sx = 0;
      let sy = 0;
      let m = 0;
      for (let y = 0; y < im.height; y++) {
        for (let x = 0; x < im.width; x++) {
          const v = im.data[(y * im.width + x) * 3]! - 114;
          sx += v * (x + 0.5);
          sy += v * (y + 0.5);
          m += v;
        }
      }
      return [sx / m, sy / m];
    };
    const [cx0, cy0] = centroid(img);
    for (const seed of [1, 2, 3]) {
      const labels = Float64Array.from([3, bx1, by1, bx2, by2]);
      const out = randomPerspective(
        img,
        labels,
        { degrees: 0, translate: 0.1, scale: 0, shear: 0, perspective: 0 },
        new Rng(seed),
      );
      const [cx1, cy1] = centroid(out.image);
      const dx = out.labels[1]! - bx1;
      const dy = out.labels[2]! - by1;
      expect(out.labels[0]).toBe(3);
      expect(out.labels[3]! - out.labels[1]!).toBeCloseTo(bx2 - bx1, 9);
      expect(out.labels[4]! - out.labels[2]!).toBeCloseTo(by2 - by1, 9);
      expect(Math.abs(dx) + Math.abs(dy)).toBeGreaterThan(0.5);
      // OpenCV quantizes source positions to 1/32 pixel; edge pixels round to uint8.
      expect(Math.abs(cx1 - cx0 - dx)).toBeLessThan(0.05);
      expect(Math.abs(cy1 - cy0 - dy)).toBeLessThan(0.05);
    }
  });

  it('clips boxes to the output and drops squeezed ones (box_candidates)', () => {
    // Border -45 on 100 x 100 crops the central 10 x 10, no random component.
    const img = noise(100, 100, 2);
    const labels = Float64Array.from([0, 10, 10, 90, 90, 1, 46, 46, 54, 54, 2, 46, 46, 47, 54, 3, 50, 40, 58, 70]);
    const zero = { degrees: 0, translate: 0, scale: 0, shear: 0, perspective: 0 };
    const out = randomPerspective(img, labels, { ...zero, border: [-45, -45] }, new Rng(1));
    expect([out.image.width, out.image.height]).toEqual([10, 10]);
    expect(px(out.image, 0, 0)).toEqual(px(img, 45, 45));
    // 0: 10x10 left of 80x80 (area 1.6 %); 2: 1 px wide; 3: clipped to 5 x 10 of 8 x 30 (21 %): kept.
    expect(Array.from(out.labels)).toEqual([1, 1, 1, 9, 9, 3, 5, 0, 10, 10]);
  });

  it('keeps every box inside the image under strong random transforms', () => {
    const img = noise(64, 48, 3);
    const hyp = { degrees: 30, translate: 0.3, scale: 0.9, shear: 10, perspective: 0.001 };
    let kept = 0;
    let dropped = 0;
    for (let seed = 0; seed < 40; seed++) {
      // The 3 x 3 box falls under 2 px whenever the scale draw is under 2/3.
      const labels = Float64Array.from([0, 5, 5, 30, 20, 1, 20, 10, 60, 45, 2, 30, 20, 33, 23]);
      const out = randomPerspective(img, labels, hyp, new Rng(seed));
      for (let i = 0; i < out.labels.length; i += 5) {
        const [x1, y1, x2, y2] = Array.from(out.labels.subarray(i + 1, i + 5)) as [number, number, number, number];
        expect(x1 >= 0 && y1 >= 0 && x2 <= 64 && y2 <= 48).toBe(true);
        expect(x2 - x1 > 2 && y2 - y1 > 2).toBe(true);
      }
      kept += out.labels.length / 5;
      dropped += 3 - out.labels.length / 5;
    }
    expect(kept).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
  });

  it('box_candidates applies each of its thresholds', () => {
    const before = [0, 0, 10, 10] as const;
    expect(boxCandidates(before, [0, 0, 10, 10])).toBe(true);
    expect(boxCandidates(before, [0, 0, 2, 10])).toBe(false); // not wider than 2 px
    expect(boxCandidates(before, [0, 0, 10, 2.5])).toBe(true);
    expect(boxCandidates([0, 0, 100, 100], [0, 0, 30, 30])).toBe(false); // 0.09 of the area
    expect(boxCandidates([0, 0, 100, 100], [0, 0, 30, 40])).toBe(true); // 0.12
    expect(boxCandidates([0, 0, 1000, 10], [0, 0, 500, 4])).toBe(false); // aspect 125
  });
});

describe('HSV', () => {
  it('converts as OpenCV does on uint8 (H in 0..179)', () => {
    expect(rgbToHsv8(255, 0, 0)).toEqual([0, 255, 255]);
    expect(rgbToHsv8(0, 255, 0)).toEqual([60, 255, 255]);
    expect(rgbToHsv8(0, 0, 255)).toEqual([120, 255, 255]);
    expect(rgbToHsv8(255, 128, 0)).toEqual([15, 255, 255]);
    expect(rgbToHsv8(77, 77, 77)).toEqual([0, 0, 77]);
    expect(rgbToHsv8(255, 0, 1)[0]).toBe(0); // -0.12 rounds to 0
    expect(rgbToHsv8(255, 0, 20)[0]).toBe(178); // -2.35 -> -2, wrapped to 178
    expect(hsvToRgb8(0, 255, 255)).toEqual([255, 0, 0]);
    expect(hsvToRgb8(60, 255, 255)).toEqual([0, 255, 0]);
    expect(hsvToRgb8(120, 255, 255)).toEqual([0, 0, 255]);
    expect(hsvToRgb8(90, 0, 200)).toEqual([200, 200, 200]);
  });

  it('with zero gains leaves the image untouched and draws nothing', () => {
    const img = noise(9, 7, 4);
    const copy = img.data.slice();
    const rng = new Rng(5);
    augmentHsv(img, 0, 0, 0, rng);
    expect(img.data).toEqual(copy);
    expect(rng.nextUint32()).toBe(new Rng(5).nextUint32());
  });

  it('with unit gains only loses what uint8 HSV quantization loses; gains move V as asked', () => {
    const img = noise(64, 64, 6);
    const copy = img.data.slice();
    const unit = { uniform: () => 0 } as unknown as Rng;
    augmentHsv(img, 0.5, 0.5, 0.5, unit);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < copy.length; i++) {
      const e = Math.abs(img.data[i]! - copy[i]!);
      max = Math.max(max, e);
      sum += e;
    }
    // Half a hue step (1 step = 6/180 of the colour wheel) is 255 * 6/360 / 2 ~ 4.25 levels.
    expect(max).toBeLessThanOrEqual(5);
    expect(sum / copy.length).toBeLessThan(1);
    // uniform = 1 for V: value x 1.5; a grey pixel of 100 becomes 150.
    const grey: RgbImage = { data: new Uint8Array(3).fill(100), width: 1, height: 1, channels: 3 };
    augmentHsv(grey, 0, 0, 0.5, { uniform: () => 1 } as unknown as Rng);
    expect(Array.from(grey.data)).toEqual([150, 150, 150]);
  });
});

describe('flips', () => {
  it('mirror rows or columns and are their own inverse', () => {
    const img = noise(5, 4, 7);
    const copy = img.data.slice();
    flipLeftRight(img);
    expect(px(img, 0, 1)).toEqual(Array.from(copy.subarray((1 * 5 + 4) * 3, (1 * 5 + 4) * 3 + 3)));
    flipLeftRight(img);
    expect(img.data).toEqual(copy);
    flipUpDown(img);
    expect(px(img, 2, 0)).toEqual(Array.from(copy.subarray((3 * 5 + 2) * 3, (3 * 5 + 2) * 3 + 3)));
    flipUpDown(img);
    expect(img.data).toEqual(copy);
  });
});
