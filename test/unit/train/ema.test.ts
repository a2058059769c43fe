import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NamedTensors } from '../../../src/main/engine/host-tensor.js';
import { YoloModel } from '../../../src/main/engine/model/forward.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { parseModelYaml } from '../../../src/main/engine/model/yaml.js';
import { ModelEMA, emaDecay } from '../../../src/main/engine/train/ema.js';
import { LEGACY_YAML } from '../model/fixtures.js';
import { useWasm } from '../tf/util.js';

beforeAll(async () => {
  await useWasm();
});

const graph = () => buildGraph(parseModelYaml(LEGACY_YAML, 'legacy.yaml'));

/** Moves every float tensor of the model (params and buffers) and bumps the BN counters. */
function perturb(model: YoloModel, seed: number): void {
  tf.tidy(() => {
    let k = 0;
    for (const t of [...model.params.values(), ...model.buffers.values()]) {
      t.variable.assign(tf.add(t.variable, tf.randomNormal(t.variable.shape, 0, 0.1, 'float32', seed * 1000 + k++)));
    }
  });
  for (const name of model.counters.keys()) model.counters.set(name, (model.counters.get(name) ?? 0) + 1);
}

function floats(named: NamedTensors): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [n, t] of named) if (t.dtype === 'float32') out.set(n, Float64Array.from(t.data as Float32Array));
  return out;
}

describe('emaDecay', () => {
  it('is 0.9999 * (1 - exp(-updates / 2000))', () => {
    expect(emaDecay(0)).toBe(0);
    expect(emaDecay(2000)).toBeCloseTo(0.9999 * (1 - Math.exp(-1)), 15);
    expect(emaDecay(1e6)).toBeCloseTo(0.9999, 12);
  });
});

describe('ModelEMA (utils/torch_utils.py ModelEMA)', () => {
  it('follows a JS reference over params and BN buffers; counters stay as created', () => {
    const model = YoloModel.create(graph(), { seed: 1 });
    perturb(model, 1);
    const counterAtStart = new Map(model.counters);
    const ema = new ModelEMA(model);
    let ref = floats(model.exportTensors());
    for (let u = 1; u <= 3; u++) {
      perturb(model, u + 1);
      ema.update(model);
      const d = 0.9999 * (1 - Math.exp(-u / 2000));
      const src = floats(model.exportTensors());
      ref = new Map([...ref].map(([n, v]) => [n, v.map((x, i) => x * d + (1 - d) * (src.get(n)?.[i] ?? NaN))]));
    }
    expect(ema.updates).toBe(3);
    const got = ema.exportTensors();
    expect([...got.keys()]).toEqual([...model.exportTensors().keys()]);
    let maxErr = 0;
    for (const [n, v] of ref) {
      const g = got.get(n)?.data as Float32Array;
      v.forEach((x, i) => (maxErr = Math.max(maxErr, Math.abs(x - (g[i] ?? NaN)))));
    }
    expect(maxErr).toBeLessThan(1e-6);
    // the running statistics moved too (they are part of the average)
    const rm = [...ref.keys()].find((n) => n.endsWith('.running_mean'));
    expect(rm).toBeDefined();
    expect(got.get(rm!)?.data).not.toEqual(floats(model.exportTensors()).get(rm!));
    for (const [n, c] of counterAtStart) {
      expect(Number((got.get(n)?.data as BigInt64Array)[0])).toBe(c);
      expect(model.counters.get(n)).toBe(c + 3);
    }
    ema.dispose();
    model.dispose();
  });

  it('exports and imports its state (resume continues identically)', () => {
    const model = YoloModel.create(graph(), { seed: 2 });
    const a = new ModelEMA(model);
    perturb(model, 7);
    a.update(model);
    a.update(model);
    const state = a.exportState();
    const b = new ModelEMA(YoloModel.create(graph(), { seed: 9 }));
    b.importState(state);
    expect(b.updates).toBe(2);
    perturb(model, 8);
    a.update(model);
    b.update(model);
    const ta = a.exportTensors();
    for (const [n, t] of b.exportTensors()) expect(t.data, n).toEqual(ta.get(n)?.data);
    a.dispose();
    b.dispose();
    model.dispose();
  });

  it('the averaged model runs a forward pass', () => {
    const model = YoloModel.create(graph(), { seed: 3 });
    const ema = new ModelEMA(model);
    const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    const same = tf.tidy(() => {
      const r1 = model.forward(x, { training: false });
      const r2 = ema.model.forward(x, { training: false });
      return r1.every((r, i) => tf.max(tf.abs(tf.sub(r, r2[i]!))).dataSync()[0] === 0);
    });
    expect(same).toBe(true);
    x.dispose();
    ema.dispose();
    model.dispose();
  });
});
