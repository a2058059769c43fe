import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadImageRgb } from '../../../src/main/engine/infer/image.js';
import { letterbox, resizeLongSide } from '../../../src/main/engine/infer/letterbox.js';
import { type RgbImage, resizeImage } from '../../../src/main/engine/infer/resize.js';
import { parseNpy } from '../../helpers/npy.js';
import { describeShared, shared } from '../../helpers/shared.js';

const solid = (w: number, h: number, v: number): RgbImage => ({
  data: new Uint8Array(w * h * 3).fill(v),
  width: w,
  height: h,
  channels: 3,
});

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
});

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
  it('load_image rule: INTER_AREA when shrinking, ceil sizes', () => {
    const r = resizeLongSide(solid(1000, 333, 5), 320, false);
    expect([r.width, r.height]).toEqual([320, 107]); // ceil(106.56)
  });
});

describe('loadImageRgb', () => {
  it('returns 3-channel RGB, dropping alpha and expanding grey', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'freezelab-img-'));
    try {
      const rgba = path.join(dir, 'a.png');
      await sharp({ create: { width: 4, height: 3, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } })
        .png()
        .toFile(rgba);
      const a = await loadImageRgb(rgba);
      expect([a.width, a.height, a.channels, a.data.length]).toEqual([4, 3, 3, 36]);
      expect(Array.from(a.data.subarray(0, 3))).toEqual([10, 20, 30]);
      const grey = path.join(dir, 'g.png');
      await sharp({ create: { width: 4, height: 3, channels: 3, background: '#404040' } })
        .greyscale()
        .png()
        .toFile(grey);
      const g = await loadImageRgb(grey);
      expect([g.channels, g.data[0], g.data[2]]).toEqual([3, 64, 64]);
      await expect(loadImageRgb(path.join(dir, 'nope.png'))).rejects.toThrow(/Cannot read image .*nope\.png/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeShared('letterbox vs the official bus320 input', () => {
  it('matches bus.jpg letterboxed to 320 (auto off) closely; reports the difference', async () => {
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
    // Measured 5.0e-3 over the whole input: the resize is OpenCV's; the rest is JPEG chroma decoding.
    expect(mean).toBeLessThan(0.01);
  });
});
