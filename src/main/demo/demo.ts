/**
 * The built-in demo: with no data and no network, a freeze sweep on a small generated problem.
 * Base weights were pretrained by `scripts/pretrain-demo.ts` on domain A and ship in
 * `assets/demo/`; the sweep fine-tunes them on domain B with nothing, the backbone, and all but
 * Detect frozen, and the compare view shows what each choice costs and saves.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FreezeLabError } from '../../shared/result.js';
import type { SweepRequestInput } from '../../shared/train-config.js';
import { packageRoot } from '../version.js';
import { writeDemoDataset, type DemoDatasetSpec } from './dataset.js';

/** Domain A: what the base weights were pretrained on. */
export const DEMO_PRETRAIN: DemoDatasetSpec = { domain: 'A', train: 768, val: 96, size: 128, seed: 1 };
/** Domain B: the user's "new data" the demo sweep fine-tunes on. */
export const DEMO_TARGET: DemoDatasetSpec = { domain: 'B', train: 192, val: 64, size: 128, seed: 2 };
export const DEMO_SWEEP = {
  imgSize: 128,
  batch: 16,
  epochs: 8,
  freezes: ['none', 'backbone', 'all-but-detect'],
  hyp: 'finetune',
} as const;

/** Where the shipped base weights are (inside app.asar.unpacked when packaged). */
export function demoWeightsPath(): string {
  return path.join(packageRoot, 'assets', 'demo', 'demo-base.safetensors').replace('app.asar', 'app.asar.unpacked');
}

export async function prepareDemo(
  dataDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<{ request: SweepRequestInput; dataYaml: string }> {
  const weights = demoWeightsPath();
  if (!existsSync(weights)) {
    throw new FreezeLabError(
      'not-found',
      `The demo's base weights are missing (${weights}).`,
      'Reinstall FreezeLab, or rebuild them with `npx tsx scripts/pretrain-demo.ts`.',
    );
  }
  const dataYaml = await writeDemoDataset(path.join(dataDir, 'demo', 'domain-b'), DEMO_TARGET, onProgress);
  return {
    dataYaml,
    request: {
      name: 'demo',
      weights,
      data: dataYaml,
      imgSize: DEMO_SWEEP.imgSize,
      batch: DEMO_SWEEP.batch,
      epochs: DEMO_SWEEP.epochs,
      hyp: DEMO_SWEEP.hyp,
      freezes: [...DEMO_SWEEP.freezes],
      seed: 0,
    },
  };
}
