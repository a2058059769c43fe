/** Writes a demo domain as a YOLO-format dataset (PNG images, label files, data YAML). */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DEMO_CLASSES, drawScene, type DemoDomain } from './scene.js';

export interface DemoDatasetSpec {
  readonly domain: DemoDomain;
  readonly train: number;
  readonly val: number;
  /** Square image side in pixels. */
  readonly size: number;
  readonly seed: number;
}

/** Generates the dataset under `root` (skipped when an identical one is already there); returns its YAML. */
export async function writeDemoDataset(
  root: string,
  spec: DemoDatasetSpec,
  onProgress?: (done: number, total: number) => void,
): Promise<string> {
  const yaml = path.join(root, 'data.yaml');
  const marker = path.join(root, '.complete.json');
  const wanted = JSON.stringify(spec);
  const existing = await readFile(marker, 'utf8').catch(() => undefined);
  if (existing === wanted) return yaml;
  await rm(root, { recursive: true, force: true });
  const total = spec.train + spec.val;
  let done = 0;
  for (const [split, count, offset] of [
    ['train', spec.train, 0],
    ['val', spec.val, 1_000_000],
  ] as const) {
    await mkdir(path.join(root, 'images', split), { recursive: true });
    await mkdir(path.join(root, 'labels', split), { recursive: true });
    for (let n = 0; n < count; n++) {
      const scene = drawScene(spec.domain, spec.seed * 7_919 + offset + n, spec.size);
      const stem = `${spec.domain.toLowerCase()}_${split}_${String(n).padStart(4, '0')}`;
      await sharp(Buffer.from(scene.pixels), { raw: { width: scene.size, height: scene.size, channels: 3 } })
        .png({ compressionLevel: 6 })
        .toFile(path.join(root, 'images', split, `${stem}.png`));
      const lines = scene.labels.map(
        (r) =>
          `${r[0]} ${r
            .slice(1)
            .map((v) => v.toFixed(6))
            .join(' ')}`,
      );
      await writeFile(path.join(root, 'labels', split, `${stem}.txt`), lines.length ? `${lines.join('\n')}\n` : '');
      onProgress?.(++done, total);
    }
  }
  const names = DEMO_CLASSES.map((n, i) => `  ${i}: ${n}`).join('\n');
  await writeFile(
    yaml,
    `# FreezeLab demo, domain ${spec.domain} (generated; seed ${spec.seed})\npath: .\ntrain: images/train\nval: images/val\nnames:\n${names}\n`,
  );
  await writeFile(marker, wanted);
  return yaml;
}
