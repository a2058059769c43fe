import { beforeAll, describe, expect, it } from 'vitest';
import type { NamedTensors } from '../../../src/main/engine/host-tensor.js';
import { validate } from '../../../src/main/engine/eval/validate.js';
import {
  DataParallel,
  poolDetector,
  shardSizes,
  startInferencePool,
} from '../../../src/main/engine/parallel/data-parallel.js';
import type { ReplicaPool } from '../../../src/main/engine/parallel/pool.js';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../../../src/main/engine/model/source.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { trainableParams, YoloSgd } from '../../../src/main/engine/train/optimizer.js';
import { setupTraining, type TrainSetup } from '../../../src/main/engine/train/setup.js';
import { loadTrainState } from '../../../src/main/engine/train/state.js';
import { trainStep, type StepModel } from '../../../src/main/engine/train/step.js';
import { resolveWorkers, runTraining } from '../../../src/main/engine/train/trainer.js';
import { trainConfigSchema, type TrainConfigInput } from '../../../src/shared/train-config.js';
import { tempDir } from '../../helpers/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';

let data: TinyDataset;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  data = await makeTinyDataset({ train: 8, val: 4, size: 64 });
});

const config = (over: Partial<TrainConfigInput> = {}) =>
  trainConfigSchema.parse({ model: 'n', data: data.yaml, imgSize: 64, batch: 4, epochs: 1, seed: 3, ...over });

/** Relative L2 distance of two tensors' data. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += a[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}

const identical = (a: NamedTensors, b: NamedTensors): string[] =>
  [...a.keys()].filter((name) => {
    const x = a.get(name)!.data;
    const y = b.get(name)?.data;
    if (!y || x.length !== y.length) return true;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return true;
    return false;
  });

describe('data-parallel training', () => {
  it('splits a batch into shards of near-equal size, never an empty one', () => {
    expect(shardSizes(16, 2)).toEqual([8, 8]);
    expect(shardSizes(5, 2)).toEqual([3, 2]);
    expect(shardSizes(7, 3)).toEqual([3, 2, 2]);
    expect(shardSizes(2, 4)).toEqual([1, 1]);
    expect(shardSizes(1, 1)).toEqual([1]);
  });

  it('resolves the worker count: one on native TensorFlow, at most one per image', () => {
    expect(resolveWorkers(config({ workers: 2 }), 'wasm')).toEqual({ workers: 2 });
    expect(resolveWorkers(config({}), 'wasm')).toEqual({ workers: 1 });
    expect(resolveWorkers(config({ workers: 4 }), 'tensorflow').workers).toBe(1);
    expect(resolveWorkers(config({ workers: 4 }), 'tensorflow').note).toMatch(/native TensorFlow/);
    expect(resolveWorkers(config({ workers: 8, batch: 4 }), 'wasm')).toMatchObject({ workers: 4 });
  });

  it("with BatchNorm statistics out of play, 2 workers give one worker's loss and gradients", async () => {
    const s: TrainSetup = await setupTraining(config({ freeze: '3' }));
    let dp: DataParallel | undefined;
    try {
      // Eval-mode BatchNorm everywhere: a shard's forward no longer depends on the other images.
      const allModules = new Set(s.model.graph.modules.map((m) => m.index));
      const m: StepModel = { ...s, bnEvalModules: allModules, lossContext: s.lossContext };
      const batch = await s.loader.batch(0, 0);
      expect(batch.targets.length).toBeGreaterThan(0);
      const trainable = new Set(s.trainableVars.map((v) => v.name));
      const fresh = () =>
        new YoloSgd(
          trainableParams(s.model.params, (n) => !trainable.has(s.model.params.get(n)?.variable.name ?? '')),
          { weightDecay: 0 },
        );

      const one = fresh();
      const whole = trainStep(m, batch, (g) => one.accumulate(g), { micro: 4 });
      // The same batch in micro-batches of one image: each takes its exact share of the loss.
      const micro = fresh();
      const parts = trainStep(m, batch, (g) => micro.accumulate(g), { micro: 1 });

      const two = fresh();
      dp = await DataParallel.start(
        { ...m, optimizer: two, yaml: modelYamlToObject(s.source.yaml, s.model.graph.nc) },
        2,
        'wasm',
      );
      const sharded = await dp.step(batch, 4, false);

      for (const l of [parts, sharded.losses]) {
        expect(Math.abs(l.total - whole.total) / whole.total).toBeLessThan(1e-4);
        expect(Math.abs(l.box - whole.box) / whole.box).toBeLessThan(1e-4);
        expect(Math.abs(l.obj - whole.obj) / whole.obj).toBeLessThan(1e-4);
      }
      const g1 = one.exportPending().grads;
      expect(g1.size).toBe(s.trainableVars.length);
      for (const other of [micro.exportPending().grads, two.exportPending().grads]) {
        expect([...other.keys()].sort()).toEqual([...g1.keys()].sort());
        for (const [name, g] of g1) {
          expect(relError(g.data as Float32Array, other.get(name)!.data as Float32Array), name).toBeLessThan(1e-4);
        }
      }
      for (const opt of [one, micro, two]) opt.dispose();
    } finally {
      await dp?.close();
      s.dispose();
    }
  });

  it('the same seed and worker count give bit-identical weights', async () => {
    const run = async () => {
      const runDir = tempDir('freezelab-dp-');
      await runTraining(config({ workers: 2 }), { runDir, resume: false });
      const state = await loadTrainState(runDir);
      if (!state) throw new Error('no state');
      return state;
    };
    const a = await run();
    const b = await run();
    expect(identical(a.model, b.model)).toEqual([]);
    expect(identical(a.ema, b.ema)).toEqual([]);
    // And training did move them: the first and the last state differ from the initial weights.
    const one = await (async () => {
      const runDir = tempDir('freezelab-dp1-');
      await runTraining(config({ workers: 1 }), { runDir, resume: false });
      return (await loadTrainState(runDir))!;
    })();
    expect(identical(a.model, one.model).length).toBeGreaterThan(0);
  });

  it('a worker that dies fails the run with a clear reason, and resume finishes it', async () => {
    const runDir = tempDir('freezelab-dp-kill-');
    let pool: ReplicaPool | undefined;
    const notes: string[] = [];
    await expect(
      runTraining(config({ workers: 2, epochs: 2 }), {
        runDir,
        resume: false,
        onInfo: (m) => notes.push(m),
        onWorkers: (p) => (pool = p),
        onEpoch: async (e) => {
          if (e.epoch === 0) await pool?.kill(1);
        },
      }),
    ).rejects.toThrow(/Training worker 2 of 2 stopped unexpectedly .*resumed/);
    expect(notes.some((n) => /data-parallel on 2 workers/.test(n))).toBe(true);
    expect((await loadTrainState(runDir))?.epoch).toBe(0);
    const outcome = await runTraining(config({ workers: 2, epochs: 2 }), { runDir, resume: true });
    expect(outcome.epochs.map((e) => e.epoch)).toEqual([1]);
    expect((await loadTrainState(runDir))?.epoch).toBe(1);
  });

  it('validation over 2 workers gives the metrics of validation in one thread', async () => {
    const source = await resolveModelSource('n', { nc: 2 });
    const { model } = instantiateModel(source, { seed: 5 });
    const pool = await startInferencePool(model, modelYamlToObject(source.yaml, 2), 2, 'wasm');
    try {
      // A fresh model's detections are near random: plenty of boxes to match, at a low threshold.
      const opts = { data: data.yaml, imgSize: 64, batchSize: 2, conf: 0.0001 };
      const here = await validate(model, opts);
      const there = await validate(model, { ...opts, detector: poolDetector(pool) });
      expect(there.images).toBe(4);
      expect(here.recall).toBeGreaterThan(0); // some boxes match: the comparison is not of two zeros
      expect(there.map50_95).toBe(here.map50_95);
      expect(there.precision).toBe(here.precision);
      expect(there.recall).toBe(here.recall);
      expect(there.perClass).toEqual(here.perClass);
    } finally {
      await pool.close();
      model.dispose();
    }
  });
});
