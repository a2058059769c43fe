/**
 * AutoAnchor inside a run: when the labels do not fit the model's anchors, training uses k-means
 * anchors (and says so), checkpoints carry them, a resumed run keeps them; off, nothing changes.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NamedTensors } from '../../../src/main/engine/host-tensor.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { loadTrainState } from '../../../src/main/engine/train/state.js';
import { runTraining, TrainingStopped } from '../../../src/main/engine/train/trainer.js';
import { loadCheckpoint } from '../../../src/main/engine/weights/index.js';
import { trainConfigSchema, type TrainConfigInput } from '../../../src/shared/train-config.js';
import { tempDir } from '../../helpers/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';

/** The yolov5n anchors (pixels) as the model YAML gives them. */
const COCO = [10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326];
const STRIDES = [8, 16, 32];

let fits: TinyDataset;
let thin: TinyDataset;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  fits = await makeTinyDataset({ train: 8, val: 4, size: 64, seed: 5 });
  // Same images; every label a long flat bar (32-48 x 3-5 px at 64): most are over 4x from every COCO anchor.
  thin = await makeTinyDataset({ train: 8, val: 4, size: 64, seed: 5 });
  for (const split of ['train', 'val']) {
    const dir = path.join(thin.root, 'labels', split);
    readdirSync(dir).forEach((f, i) => {
      const bar = (j: number) =>
        `${(i + j) % 2} 0.5 ${0.2 + 0.3 * j} ${(0.5 + 0.02 * i + 0.06 * j).toFixed(3)} ${(0.05 + 0.002 * i + 0.004 * j).toFixed(3)}`;
      writeFileSync(path.join(dir, f), `${[0, 1, 2].map(bar).join('\n')}\n`);
    });
  }
});

const config = (data: TinyDataset, over: Partial<TrainConfigInput> = {}) =>
  trainConfigSchema.parse({
    model: 'n',
    data: data.yaml,
    imgSize: 64,
    batch: 4,
    epochs: 2,
    seed: 3,
    freeze: 'all-but-detect',
    ...over,
  });

/** Anchors in pixels from a tensor map (grid units times stride). */
function pixels(tensors: NamedTensors): number[] {
  const grid = tensors.get('model.24.anchors')?.data;
  if (!(grid instanceof Float32Array)) throw new Error('no float32 anchors');
  return Array.from(grid, (v, i) => v * STRIDES[Math.floor(i / 6)]!);
}

describe('AutoAnchor in training', () => {
  it('anchors that fit are kept, and the run records that they were checked', async () => {
    const infos: string[] = [];
    const warnings: string[] = [];
    const runDir = tempDir('freezelab-aa-');
    await runTraining(config(fits, { epochs: 1 }), {
      runDir,
      resume: false,
      onInfo: (m) => infos.push(m),
      onWarning: (m) => warnings.push(m),
    });
    expect(infos.join('\n')).toMatch(
      /AutoAnchor at img 64: .* best possible recall 1\.000: the anchors fit the labels/,
    );
    expect(warnings.join('\n')).not.toMatch(/AutoAnchor/);
    const state = await loadTrainState(runDir);
    expect(pixels(state!.model)).toEqual(COCO);
  });

  it('anchors that do not fit are replaced; checkpoints carry them; resume keeps them', async () => {
    const warnings: string[] = [];
    const runDir = tempDir('freezelab-aa-');
    const controller = new AbortController();
    await expect(
      runTraining(config(thin), {
        runDir,
        resume: false,
        signal: controller.signal,
        onWarning: (m) => warnings.push(m),
        onEpoch: (e) => {
          if (e.epoch === 0) controller.abort();
        },
      }),
    ).rejects.toBeInstanceOf(TrainingStopped);
    const note = warnings.find((m) => m.startsWith('AutoAnchor'));
    expect(note).toMatch(/best possible recall 0\.\d+ \(below 0\.98\): replaced by k-means anchors with recall 1\.000/);

    const first = await loadTrainState(runDir);
    const anchors = pixels(first!.model);
    expect(anchors).not.toEqual(COCO);
    // The bars are wide and flat: so is every new anchor.
    for (let a = 0; a < 9; a++) expect(anchors[2 * a]!).toBeGreaterThan(anchors[2 * a + 1]!);
    // The EMA (what validation and checkpoints use) has them too (its float32 average of equal
    // values moves them in the last bits, as YOLOv5's does), and the checkpoint's YAML says so.
    const emaAnchors = pixels(first!.ema);
    emaAnchors.forEach((v, i) => expect(v).toBeCloseTo(anchors[i]!, 4));
    const last = await loadCheckpoint(path.join(runDir, 'last.safetensors'));
    expect(pixels(last.tensors)).toEqual(emaAnchors);
    const yamlAnchors = (last.meta.yaml as { anchors: number[][] }).anchors.flat();
    yamlAnchors.forEach((v, i) => expect(v).toBeCloseTo(anchors[i]!, 3));

    // Resuming does not run AutoAnchor again: the run keeps training with the anchors it started with.
    const resumedWarnings: string[] = [];
    await runTraining(config(thin), { runDir, resume: true, onWarning: (m) => resumedWarnings.push(m) });
    expect(resumedWarnings.join('\n')).not.toMatch(/AutoAnchor/);
    const done = await loadTrainState(runDir);
    expect(done!.epoch).toBe(1);
    expect(pixels(done!.model)).toEqual(anchors);
  });

  it("a hyp file's anchor count (hyp.VOC) has the anchors computed from the labels, even where the model's fit", async () => {
    const warnings: string[] = [];
    const runDir = tempDir('freezelab-aa-');
    await runTraining(config(fits, { epochs: 1, hyp: 'VOC' }), {
      runDir,
      resume: false,
      onWarning: (m) => warnings.push(m),
    });
    // YOLOv5 builds the model with 3 placeholder anchors per level (0,1 2,3 4,5 px) for AutoAnchor.
    expect(warnings.join('\n')).toMatch(/were 0,1 2,3 4,5 0,1 2,3 4,5 0,1 2,3 4,5\)/);
    const anchors = pixels((await loadTrainState(runDir))!.model);
    expect(anchors).toHaveLength(18);
    expect(anchors).not.toEqual(COCO);
    expect(Math.min(...anchors)).toBeGreaterThanOrEqual(2);
  });

  it('an anchor count with AutoAnchor off is refused, saying why', async () => {
    await expect(
      runTraining(config(fits, { epochs: 1, hyp: 'VOC', autoanchor: false }), {
        runDir: tempDir('freezelab-aa-'),
        resume: false,
      }),
    ).rejects.toThrow(/VOC asks for 3 anchors per level computed from the labels .* but AutoAnchor is off/);
  });

  it('off (--noautoanchor), the weights keep their anchors whatever the labels', async () => {
    const messages: string[] = [];
    const runDir = tempDir('freezelab-aa-');
    await runTraining(config(thin, { epochs: 1, autoanchor: false }), {
      runDir,
      resume: false,
      onInfo: (m) => messages.push(m),
      onWarning: (m) => messages.push(m),
    });
    expect(messages.join('\n')).not.toMatch(/AutoAnchor/);
    expect(pixels((await loadTrainState(runDir))!.model)).toEqual(COCO);
  });
});
