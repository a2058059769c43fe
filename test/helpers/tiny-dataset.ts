/**
 * A tiny YOLO-format dataset generated on the fly (no files from ../shared): coloured boxes on a
 * noisy background, class = colour, train and val splits and a data YAML. Deterministic per seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../src/shared/random.js';
import { tempDir } from './service.js';

export interface TinyDataset {
  readonly root: string;
  readonly yaml: string;
  readonly names: readonly string[];
}

const COLOURS: readonly (readonly [number, number, number])[] = [
  [230, 40, 40],
  [40, 200, 60],
  [40, 80, 230],
];

export async function makeTinyDataset(
  opts: { train?: number; val?: number; size?: number; classes?: number; seed?: number; root?: string } = {},
): Promise<TinyDataset> {
  const size = opts.size ?? 64;
  const nc = opts.classes ?? 2;
  const rand = mulberry32(opts.seed ?? 1);
  const root = opts.root ?? tempDir('freezelab-tiny-');
  const names = Array.from({ length: nc }, (_, i) => `shape${i}`);
  for (const [split, count] of [
    ['train', opts.train ?? 8],
    ['val', opts.val ?? 4],
  ] as const) {
    mkdirSync(path.join(root, 'images', split), { recursive: true });
    mkdirSync(path.join(root, 'labels', split), { recursive: true });
    for (let n = 0; n < count; n++) {
      const pixels = Buffer.alloc(size * size * 3);
      for (let i = 0; i < pixels.length; i++) pixels[i] = 90 + Math.floor(rand() * 60);
      const lines: string[] = [];
      const objects = 1 + Math.floor(rand() * 2);
      for (let o = 0; o < objects; o++) {
        const cls = Math.floor(rand() * nc);
        const w = Math.floor(size * (0.2 + rand() * 0.3));
        const h = Math.floor(size * (0.2 + rand() * 0.3));
        const x0 = Math.floor(rand() * (size - w));
        const y0 = Math.floor(rand() * (size - h));
        const colour = COLOURS[cls % COLOURS.length] ?? [0, 0, 0];
        for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) pixels.set(colour, (y * size + x) * 3);
        lines.push(`${cls} ${(x0 + w / 2) / size} ${(y0 + h / 2) / size} ${w / size} ${h / size}`);
      }
      const stem = `${split}${n}`;
      await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toFile(path.join(root, 'images', split, `${stem}.png`));
      writeFileSync(path.join(root, 'labels', split, `${stem}.txt`), `${lines.join('\n')}\n`);
    }
  }
  const yaml = path.join(root, 'data.yaml');
  writeFileSync(
    yaml,
    `path: .\ntrain: images/train\nval: images/val\nnames:\n${names.map((n, i) => `  ${i}: ${n}`).join('\n')}\n`,
  );
  return { root, yaml, names };
}
