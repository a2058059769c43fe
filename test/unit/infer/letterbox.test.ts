import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadImageRgb } from '../../../src/main/engine/infer/image.js';
import { letterbox, resizeLongSide, resizedSize } from '../../../src/main/engine/infer/letterbox.js';
import { type RgbImage, resizeImage } from '../../../src/main/engine/infer/resize.js';
import { parseNpy } from '../../helpers/npy.js';
import { describeShared, shared } from '../../helpers/shared.js';

const solid = (w: number, h: number, v: number): RgbImage => ({
  data: new Uint8Array(w * h * 3).fill(v),
  width: w,
  height: h,
  channels: 3,
});

function image(w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h, channels: 3 };
}

describe('letterbox (YOLOv5 utils/augmentations.py)', () => {
  it('minimal stride padding with auto', () => {
    const r = letterbox(solid(810, 1080, 50), { newShape: 640 });
    expect([r.image.width, r.image.height]).toEqual([480, 640]); // 480 is already a multiple of 32
    expect(r.ratio[0]).toBeCloseTo(640 / 1080, 12);
    expect(r.pad).toEqual([0, 0]);
    const z = letterbox(solid(1280, 720, 50), { newShape: 640 });
    expect([z.image.width, z.image.height, z.top, z.pad[1]]).toEqual([640, 384, 12, 12]); // 360 -> 384
  });
  it('fixed square pads with 114, split round(d-0.1) / round(d+0.1)', () => {
    const r = letterbox(solid(101, 50, 7), { newShape: 64, auto: false });
    // r = 64/101, unpadded 64x32 (round(31.68)), dh = 32 / 2 = 16
    expect([r.image.width, r.image.height, r.top, r.left]).toEqual([64, 64, 16, 0]);
    const odd = letterbox(solid(100, 61, 7), { newShape: 100, auto: false });
    // dh = 39 / 2 = 19.5: top round(19.4) = 19, bottom round(19.6) = 20
    expect([odd.top, odd.pad[1]]).toEqual([19, 19.5]);
    expect(odd.image.data[0]).toBe(114);
    expect(odd.image.data[(19 * 100 + 5) * 3]).toBe(7);
    expect(odd.image.data[(79 * 100 + 5) * 3]).toBe(7); // 61 rows: 19..79
    expect(odd.image.data[(80 * 100 + 5) * 3]).toBe(114);
  });
  it('scaleup false never enlarges; scaleFill stretches', () => {
    const r = letterbox(solid(20, 10, 1), { newShape: 64, auto: false, scaleup: false });
    expect(r.ratio).toEqual([1, 1]);
    expect([r.left, r.top]).toEqual([22, 27]);
    const s = letterbox(solid(20, 10, 1), { newShape: [32, 48], auto: false, scaleFill: true });
    expect([s.image.width, s.image.height, s.ratio[0], s.ratio[1]]).toEqual([48, 32, 2.4, 3.2]);
  });
  it('letterbox pads to a stride multiple and reports the ratio against the original', () => {
    // 1280x720 -> 640x360 is an exact 2x shrink: resizeImage's area-fast path, then padding.
    const lb = letterbox(
      image(1280, 720, () => 9),
      { newShape: 640, auto: true, stride: 32 },
    );
    expect([lb.image.width, lb.image.height, lb.top, lb.ratio[0]]).toEqual([640, 384, 12, 0.5]);
    expect(lb.image.data[0]).toBe(114);
    expect(lb.image.data[(12 * 640 + 3) * 3]).toBe(9);
  });
});

describe('resizeLongSide / resizedSize (YOLOv5 v7.0 load_image)', () => {
  it('sizes the long side to img, truncating the other side as v7.0 does', () => {
    expect(resizedSize(640, 427, 320)).toEqual([320, 213]);
    expect(resizedSize(50, 30, 64)).toEqual([64, 38]);
    expect(resizedSize(64, 10, 64)).toEqual([64, 10]);
    expect(resizedSize(2000, 10, 64)).toEqual([64, 1]);
  });

  it('load_image rule: INTER_AREA when shrinking, int() sizes', () => {
    const r = resizeLongSide(solid(1000, 333, 5), 320, false);
    expect([r.width, r.height]).toEqual([320, 106]); // int(106.56)
    expect(resizeLongSide(solid(500, 313, 0), 640, false).height).toBe(400); // enlarging: int(400.64)
  });

  it('takes OpenCV area-fast on whole-factor shrinks: (sum + 2) >> 2 for 2x2, also when augmenting', () => {
    // Every 2x2 block sums to 10 (mean 2.5): the general area kernel would round to even (2).
    const blocks = image(6, 4, (x, y) => [1, 2, 3, 4][(y % 2) * 2 + (x % 2)]!);
    for (const augment of [false, true])
      expect(Array.from(resizeLongSide(blocks, 3, augment).data)).toEqual(new Array(18).fill(3));
    // 4x area: cvRound(sum / 16) per block.
    const four = resizeLongSide(
      image(8, 4, (x) => (x < 4 ? 0 : 8)),
      2,
      false,
    );
    expect(Array.from(four.data)).toEqual([0, 0, 0, 8, 8, 8]);
  });

  it('uses the general kernels for other factors and keeps an image already at size', () => {
    const img = image(50, 30, (x, y, c) => (x * 7 + y * 3 + c * 50) & 255);
    expect(resizeLongSide(img, 64, false).data).toEqual(resizeImage(img, 64, 38, 'linear').data);
    expect(resizeLongSide(img, 40, false).data).toEqual(resizeImage(img, 40, 24, 'area').data);
    expect(resizeLongSide(img, 40, true).data).toEqual(resizeImage(img, 40, 24, 'linear').data);
    expect(resizeLongSide(img, 50, true)).toBe(img);
  });
});

describeShared('letterbox vs the official bus320 input', () => {
  it('matches bus.jpg letterboxed to 320 (auto off) exactly; reports the difference', async () => {
    const file = shared('reference', 'bus320-input-nchw.npy');
    // Copy into a fresh Uint8Array: the bytes of a Node Buffer may not start at offset 0 of its ArrayBuffer.
    const ref = parseNpy(new Uint8Array(readFileSync(file)), file);
    expect(ref.shape).toEqual([1, 3, 320, 320]);
    const img = await loadImageRgb(shared('reference', 'images', 'bus.jpg'));
    const lb = letterbox(img, { newShape: 320, auto: false });
    expect([lb.image.width, lb.image.height, lb.left, lb.top]).toEqual([320, 320, 40, 0]);
    let sum = 0;
    let max = 0;
    let padMax = 0;
    for (let y = 0; y < 320; y++) {
      for (let x = 0; x < 320; x++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(lb.image.data[(y * 320 + x) * 3 + c]! / 255 - ref.data[c * 320 * 320 + y * 320 + x]!);
          sum += d;
          max = Math.max(max, d);
          if (x < 40 || x >= 280) padMax = Math.max(padMax, d);
        }
      }
    }
    const mean = sum / (320 * 320 * 3);
    console.log(`bus320 letterbox vs reference: mean abs diff ${mean.toExponential(3)}, max ${max.toFixed(4)} (/1)`);
    expect(padMax).toBeLessThan(1e-6);
    expect(mean).toBeLessThan(0.01);
    // Measured 8.8e-9 mean, 0 max (float32 rounding of x/255): with the ICC profile ignored, as
    // cv2.imread does, decode + resize + pad reproduce the reference input exactly. (Converting
    // through bus.jpg's Display P3 profile gave a mean of 4.9e-3 and a max of 0.20.)
    expect(max).toBeLessThan(1e-6);
  });
});
