/**
 * Small generated datasets for the loader tests: PNG images (lossless, so decoded pixels are
 * known) with one coloured rectangle each on a textured background, and matching labels.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { AugmentHyp } from '../../../src/main/engine/data/augment.js';
import type { LoaderItem } from '../../../src/main/engine/data/loader.js';
import { Rng } from '../../../src/main/engine/data/random.js';
import type { RgbImage } from '../../../src/main/engine/infer/resize.js';

/** A w x h RGB image of seeded random bytes. */
export function noise(w: number, h: number, seed: number): RgbImage {
  const r = new Rng(seed);
  return { data: Uint8Array.from({ length: w * h * 3 }, () => r.below(256)), width: w, height: h, channels: 3 };
}

/** The RGB values of pixel (x, y). */
export const px = (img: RgbImage, x: number, y: number): number[] =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

/** Every augmentation off: random_perspective is then the identity. */
export const NO_AUG: AugmentHyp = {
  hsv_h: 0,
  hsv_s: 0,
  hsv_v: 0,
  degrees: 0,
  translate: 0,
  scale: 0,
  shear: 0,
  perspective: 0,
  flipud: 0,
  fliplr: 0,
  mosaic: 0,
  mixup: 0,
};

/** hyp.scratch-low's augmentation values, plus mixup so every path runs. */
export const FULL_AUG: AugmentHyp = {
  hsv_h: 0.015,
  hsv_s: 0.7,
  hsv_v: 0.4,
  degrees: 5,
  translate: 0.1,
  scale: 0.5,
  shear: 2,
  perspective: 0.0005,
  flipud: 0.2,
  fliplr: 0.5,
  mosaic: 1,
  mixup: 0.3,
};

export interface Fixture {
  readonly dir: string;
  readonly items: LoaderItem[];
  cleanup(): Promise<void>;
}

/** Image i: `w x h` texture with a rectangle of class i (as box: normalized cx, cy, w, h). */
export function spec(i: number): { w: number; h: number; box: [number, number, number, number] } {
  const w = 40 + ((i * 23) % 60);
  const h = 30 + ((i * 37) % 70);
  return { w, h, box: [0.3 + 0.05 * (i % 4), 0.6 - 0.05 * (i % 3), 0.4, 0.3] };
}

/** Writes `count` PNG images (and no label files: rows are passed in the items). */
export async function makeDataset(count: number): Promise<Fixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'freezelab-loader-'));
  const items: LoaderItem[] = [];
  for (let i = 0; i < count; i++) {
    const { w, h, box } = spec(i);
    const data = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        const inBox =
          Math.abs(x + 0.5 - box[0] * w) < (box[2] * w) / 2 && Math.abs(y + 0.5 - box[1] * h) < (box[3] * h) / 2;
        data[o] = inBox ? 200 : (x * 5 + i * 40) & 255;
        data[o + 1] = inBox ? (i * 60) & 255 : (y * 3) & 255;
        data[o + 2] = inBox ? 30 : ((x + y) * 2) & 255;
      }
    }
    const file = path.join(dir, `img${i}.png`);
    await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(file);
    items.push({
      imageFile: file,
      width: w,
      height: h,
      rows: [{ cls: i, cx: box[0], cy: box[1], w: box[2], h: box[3] }],
    });
  }
  return { dir, items, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a file that claims to be an image but is not one. */
export async function writeCorrupt(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, Buffer.from('this is not a png at all'));
  return file;
}
