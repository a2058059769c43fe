import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageReadError, loadImageRgb } from '../../../src/main/engine/infer/image.js';

describe('loadImageRgb', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'freezelab-img-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns 3-channel RGB, dropping alpha and expanding grey', async () => {
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
  });

  it('throws ImageReadError naming the file for a corrupt image', async () => {
    const bad = path.join(dir, 'bad.jpg');
    writeFileSync(bad, 'not a jpeg');
    const err = await loadImageRgb(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageReadError);
    expect((err as ImageReadError).file).toBe(bad);
    expect((err as Error).message).toMatch(/Cannot read image .*bad\.jpg/);
  });

  it('ignores an embedded ICC profile, as cv2.imread: the stored values come back', async () => {
    // sRGB red converted to Display P3 and tagged so: a colour-managed decode gives the red back,
    // cv2.imread (and loadImageRgb) the stored P3 values.
    const file = path.join(dir, 'p3.png');
    const px = Buffer.alloc(4 * 4 * 3);
    for (let i = 0; i < 16; i++) px.set([200, 30, 30], i * 3);
    await sharp(px, { raw: { width: 4, height: 4, channels: 3 } })
      .withIccProfile('p3')
      .png()
      .toFile(file);
    const managed = await sharp(file).raw().toBuffer();
    expect(Math.abs(managed[0]! - 200)).toBeLessThanOrEqual(2);
    const stored = await sharp(file, { ignoreIcc: true }).raw().toBuffer();
    const img = await loadImageRgb(file);
    expect(Buffer.from(img.data)).toEqual(stored);
    expect(Math.abs(img.data[0]! - 200)).toBeGreaterThan(5);
  });
});
