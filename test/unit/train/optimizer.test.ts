import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { YoloModel } from '../../../src/main/engine/model/forward.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { parseModelYaml } from '../../../src/main/engine/model/yaml.js';
import { registerTrainingKernels } from '../../../src/main/engine/tf/index.js';
import {
  OptimizerStateError,
  YoloSgd,
  paramGroupOf,
  trainableParams,
  type OptimParam,
} from '../../../src/main/engine/train/optimizer.js';
import { isFrozenParam } from '../../../src/shared/freeze.js';
import { LEGACY_YAML } from '../model/fixtures.js';
import { useWasm } from '../tf/util.js';

beforeAll(async () => {
  await useWasm();
  registerTrainingKernels();
});

function param(name: string, values: number[], shape = [values.length]): OptimParam {
  return { name, variable: tf.variable(tf.tensor(values, shape), true, `${name}#${Math.random()}`), torchShape: shape };
}
const lrAll = (lr: number) => ({ bias: lr, weight: lr, bn: lr });
const read = (p: OptimParam): number[] => [...p.variable.dataSync()];

describe('paramGroupOf (smart_optimizer groups by name)', () => {
  it('puts biases, BatchNorm weights and other weights in their groups', () => {
    expect(paramGroupOf('model.24.m.0.bias')).toBe('bias');
    expect(paramGroupOf('model.3.bn.bias')).toBe('bias');
    expect(paramGroupOf('model.3.bn.weight')).toBe('bn');
    expect(paramGroupOf('model.2.bn.weight')).toBe('bn'); // BottleneckCSP's own bn
    expect(paramGroupOf('model.3.conv.weight')).toBe('weight');
    expect(paramGroupOf('model.24.m.0.weight')).toBe('weight');
  });
});

describe('YoloSgd update (torch.optim.SGD, nesterov)', () => {
  it('three steps with a constant gradient match the closed form', () => {
    const p = param('m.bias', [1, -2]);
    const opt = new YoloSgd([p], { weightDecay: 0.5, maxGradNorm: 0 });
    const [g, lr, mu] = [0.3, 0.1, 0.9];
    for (let k = 0; k < 3; k++) {
      opt.accumulate({ [p.variable.name]: tf.tensor([g, g]) });
      opt.step({ lr: lrAll(lr), momentum: mu });
    }
    // b1 = g, b2 = g(1+mu), b3 = g(1+mu+mu^2); step k moves by lr * (g + mu * b_k); biases: no decay
    const move = lr * g * (1 + mu + (1 + mu + mu * mu) + (1 + mu + mu * mu + mu ** 3));
    read(p).forEach((v, i) => expect(v).toBeCloseTo([1, -2][i]! - move, 6));
    expect(opt.steps).toBe(3);
  });

  it('adds weight decay to the gradient of the weight group only, with changing lr and momentum', () => {
    const w = param('model.0.conv.weight', [2]);
    const bn = param('model.0.bn.weight', [2]);
    const b = param('model.0.bn.bias', [2]);
    const opt = new YoloSgd([w, bn, b], { weightDecay: 0.01, maxGradNorm: 0 });
    const grads = [0.5, -0.25];
    const lrs = [0.2, 0.1];
    const mus = [0.8, 0.9];
    // hand transcription of torch.optim.SGD._single_tensor_sgd for the decayed parameter
    let pw = 2;
    let pn = 2;
    let buf = 0;
    let bufN = 0;
    for (let k = 0; k < 2; k++) {
      const g = grads[k]!;
      const mu = mus[k]!;
      for (const q of [w, bn, b]) opt.accumulate({ [q.variable.name]: tf.tensor([g]) });
      opt.step({ lr: { weight: lrs[k]!, bn: lrs[k]!, bias: lrs[k]! }, momentum: mu });
      const d = g + 0.01 * pw;
      buf = k === 0 ? d : mu * buf + d;
      pw -= lrs[k]! * (d + mu * buf);
      bufN = k === 0 ? g : mu * bufN + g;
      pn -= lrs[k]! * (g + mu * bufN);
    }
    expect(read(w)[0]).toBeCloseTo(pw, 6);
    expect(read(bn)[0]).toBeCloseTo(pn, 6);
    expect(read(b)[0]).toBeCloseTo(pn, 6);
    expect(Math.abs(pw - pn)).toBeGreaterThan(1e-4);
  });

  it('uses the lr of each group', () => {
    const ps = [param('a.bias', [0]), param('a.conv.weight', [0]), param('a.bn.weight', [0])];
    const opt = new YoloSgd(ps, { weightDecay: 0, maxGradNorm: 0 });
    for (const p of ps) opt.accumulate({ [p.variable.name]: tf.tensor([1]) });
    opt.step({ lr: { bias: 0.1, weight: 0.2, bn: 0.3 }, momentum: 0 });
    expect(ps.map((p) => read(p)[0])).toEqual([-0.1, -0.2, -0.3].map((v) => Math.fround(v)));
  });

  it('sums accumulated batches and clips the global norm to 10 (clip_grad_norm_)', () => {
    const a = param('a.bias', [0, 0]);
    const c = param('c.bias', [0]);
    const opt = new YoloSgd([a, c], { weightDecay: 0 });
    // two batches: totals a = [12, 16], c = [0] -> norm 20, scaled by 10 / (20 + 1e-6) to [6, 8]
    opt.accumulate({ [a.variable.name]: tf.tensor([3, 4]), [c.variable.name]: tf.tensor([0]) });
    opt.accumulate({ [a.variable.name]: tf.tensor([9, 12]), [c.variable.name]: tf.tensor([0]) });
    expect(opt.pending).toBe(2);
    const r = opt.step({ lr: lrAll(1), momentum: 0 });
    expect(r.gradNorm).toBeCloseTo(20, 5);
    expect(r.clipCoef).toBeCloseTo(10 / (20 + 1e-6), 10);
    read(a).forEach((v, i) => expect(v).toBeCloseTo(-[6, 8][i]!, 4));
    expect(opt.pending).toBe(0);
    // below the limit nothing is scaled
    opt.accumulate({ [a.variable.name]: tf.tensor([0.3, 0.4]), [c.variable.name]: tf.tensor([0]) });
    const r2 = opt.step({ lr: lrAll(1), momentum: 0 });
    expect(r2.clipCoef).toBe(1);
    read(a).forEach((v, i) => expect(v).toBeCloseTo(-[6.3, 8.4][i]!, 4));
  });

  it('rejects gradients of variables it does not hold', () => {
    const a = param('a.bias', [0]);
    const other = tf.variable(tf.tensor([0]));
    const opt = new YoloSgd([a], { weightDecay: 0 });
    expect(() => opt.accumulate({ [other.name]: tf.tensor([1]) })).toThrow(/not a parameter of this optimizer/);
  });
});

describe('YoloSgd on a model with frozen modules', () => {
  it('updates trainable parameters only; frozen ones stay bit-identical', () => {
    const model = YoloModel.create(buildGraph(parseModelYaml(LEGACY_YAML, 'legacy.yaml')), { seed: 5 });
    const frozen = [0, 1, 2];
    const params = trainableParams(model.params, (n) => isFrozenParam(n, frozen));
    expect(params.length).toBeGreaterThan(0);
    expect(params.length).toBeLessThan(model.params.size);
    const snapshot = new Map([...model.params].map(([n, t]) => [n, Float32Array.from(t.variable.dataSync())]));
    const opt = new YoloSgd(params, { weightDecay: 5e-4 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const live: number[] = [];
    for (let k = 0; k < 3; k++) {
      const { value, grads } = tf.variableGrads(
        () => tf.addN(model.forward(x, { training: true }).map((r) => tf.mean(tf.square(r)))) as tf.Scalar,
        params.map((p) => p.variable),
      );
      opt.accumulate(grads);
      tf.dispose([value, ...Object.values(grads)]);
      opt.step({ lr: lrAll(0.01), momentum: 0.9 });
      live.push(tf.memory().numTensors);
    }
    expect(live[2]).toBe(live[1]); // no tensor leaks once the momentum buffers exist
    for (const [name, t] of model.params) {
      const before = snapshot.get(name)!;
      const after = t.variable.dataSync();
      const same = after.every((v, i) => Object.is(v, before[i]));
      expect(same, name).toBe(isFrozenParam(name, frozen));
    }
    opt.dispose();
    x.dispose();
    model.dispose();
  });
});

describe('YoloSgd state export/import', () => {
  it('resumes to the same trajectory, with conv buffers in PyTorch OIHW layout', () => {
    const w0 = Array.from({ length: 2 * 2 * 3 * 4 }, (_, i) => Math.sin(i));
    const make = (): OptimParam[] => [
      { ...param('model.1.conv.weight', w0, [2, 2, 3, 4]), torchShape: [4, 3, 2, 2] }, // HWIO variable, OIHW name
      param('model.1.bn.bias', [1, 2, 3, 4]),
    ];
    const g = (k: number) => [
      tf.tensor(
        w0.map((v) => v * (k + 1) * 0.1),
        [2, 2, 3, 4],
      ),
      tf.tensor([0.1, -0.2, 0.3, k], [4]),
    ];
    const a = make();
    const optA = new YoloSgd(a, { weightDecay: 1e-3 });
    const feed = (opt: YoloSgd, ps: OptimParam[], k: number): void => {
      const gs = g(k);
      opt.accumulate({ [ps[0]!.variable.name]: gs[0]!, [ps[1]!.variable.name]: gs[1]! });
      opt.step({ lr: lrAll(0.05), momentum: 0.9 });
    };
    feed(optA, a, 0);
    feed(optA, a, 1);
    const state = optA.exportState();
    expect(state.steps).toBe(2);
    const conv = state.momentum.get('model.1.conv.weight');
    expect(conv?.shape).toEqual([4, 3, 2, 2]);

    const b = make();
    b.forEach((p, i) => p.variable.assign(a[i]!.variable));
    const optB = new YoloSgd(b, { weightDecay: 1e-3 });
    optB.importState(state);
    expect(optB.steps).toBe(2);
    feed(optA, a, 2);
    feed(optB, b, 2);
    a.forEach((p, i) => expect([...b[i]!.variable.dataSync()]).toEqual([...p.variable.dataSync()]));

    // without the momentum buffers the trajectory differs (the test can fail)
    const c = make();
    c.forEach((p, i) => p.variable.assign(a[i]!.variable));
    const optC = new YoloSgd(c, { weightDecay: 1e-3 });
    feed(optC, c, 3);
    feed(optA, a, 3);
    expect([...c[1]!.variable.dataSync()]).not.toEqual([...a[1]!.variable.dataSync()]);

    const bad = new YoloSgd([param('model.1.conv.weight', [1, 2])], { weightDecay: 0 });
    expect(() => bad.importState(state)).toThrow(OptimizerStateError);
  });
});
