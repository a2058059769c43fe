import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bnSiluEval, bnSiluTrain, updateRunningStats } from '../../../src/main/engine/tf/bn-silu.js';
import { randn, relErr, useCpu, useWasm } from './util.js';

const EPS = 1e-3;
const SHAPE = [3, 5, 6, 4]; // odd sizes, batch 3

/** The unfused reference: tf ops differentiated by tf's autodiff. */
function unfusedTrain(x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const z = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), g), b);
  return tf.mul(z, tf.sigmoid(z));
}

function unfusedEval(x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, rm: tf.Tensor1D, rv: tf.Tensor1D): tf.Tensor {
  const z = tf.add(tf.mul(tf.div(tf.sub(x, rm), tf.sqrt(tf.add(rv, EPS))), g), b);
  return tf.mul(z, tf.sigmoid(z));
}

type Fn = (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor;

/** y and d(sum(y*r))/d{x,gamma,beta} as arrays. */
function run(fn: Fn, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.add(tf.mul(randn(SHAPE, seed), 2), 0.5) as tf.Tensor4D;
    const g = tf.add(randn([SHAPE[3]!], seed + 1), 1) as tf.Tensor1D;
    const b = randn([SHAPE[3]!], seed + 2) as tf.Tensor1D;
    const r = randn(SHAPE, seed + 3);
    const y = fn(x, g, b);
    const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      tf.sum(tf.mul(fn(a as tf.Tensor4D, c as tf.Tensor1D, d as tf.Tensor1D), r)),
    )([x, g, b]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function runningStats(seed: number): [tf.Tensor1D, tf.Tensor1D] {
  const c = SHAPE[3]!;
  return [randn([c], seed) as tf.Tensor1D, tf.add(tf.abs(randn([c], seed + 1)), 0.5) as tf.Tensor1D];
}

/** Train-mode BatchNorm + SiLU forward and the gradients of sum(y * r), in float64 (NHWC, flat). */
function bnSiluReference(
  x: ArrayLike<number>,
  g: ArrayLike<number>,
  b: ArrayLike<number>,
  r: ArrayLike<number>,
  c: number,
): { y: number[]; dx: number[]; dg: number[]; db: number[] } {
  const m = x.length / c;
  const at = (a: ArrayLike<number>, i: number) => a[i] ?? NaN;
  const mean = new Array<number>(c).fill(0);
  const vr = new Array<number>(c).fill(0);
  for (let i = 0; i < x.length; i++) mean[i % c]! += at(x, i) / m;
  for (let i = 0; i < x.length; i++) vr[i % c]! += (at(x, i) - mean[i % c]!) ** 2 / m;
  const inv = vr.map((v) => 1 / Math.sqrt(v + EPS));
  const xhat = Array.from(x, (v, i) => (v - mean[i % c]!) * inv[i % c]!);
  const z = xhat.map((v, i) => v * at(g, i % c) + at(b, i % c));
  const s = z.map((v) => 1 / (1 + Math.exp(-v)));
  const dz = z.map((v, i) => at(r, i) * s[i]! * (1 + v * (1 - s[i]!)));
  const db = new Array<number>(c).fill(0);
  const dg = new Array<number>(c).fill(0);
  dz.forEach((v, i) => {
    db[i % c]! += v;
    dg[i % c]! += v * xhat[i]!;
  });
  const dx = dz.map((v, i) => at(g, i % c) * inv[i % c]! * (v - db[i % c]! / m - (xhat[i]! * dg[i % c]!) / m));
  return { y: z.map((v, i) => v * s[i]!), dx, dg, db };
}

describe('fused BatchNorm + SiLU', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`train mode: y and gradients wrt x, gamma, beta match tf autodiff of the unfused ops (${backend})`, async () => {
      await (backend === 'cpu' ? useCpu() : useWasm());
      const fused = run((x, g, b) => bnSiluTrain(x, g, b, EPS).y, 11);
      const ref = run(unfusedTrain, 11);
      const names = ['y', 'dx', 'dgamma', 'dbeta'];
      names.forEach((name, i) => {
        expect(relErr(fused[i]!, ref[i]!), name).toBeLessThan(1e-4);
      });
    });

    it(`eval mode: y and gradients match the unfused ops with running stats (${backend})`, async () => {
      await (backend === 'cpu' ? useCpu() : useWasm());
      const [rm, rv] = runningStats(40);
      const fused = run((x, g, b) => bnSiluEval(x, g, b, rm, rv, EPS), 21);
      const ref = run((x, g, b) => unfusedEval(x, g, b, rm, rv), 21);
      ['y', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => {
        expect(relErr(fused[i]!, ref[i]!), name).toBeLessThan(1e-4);
      });
      tf.dispose([rm, rv]);
    });
  }

  it('train mode stays exact when the mean is far from zero (wasm against a float64 reference)', async () => {
    await useWasm();
    const shape = [4, 6, 5, 8] as const;
    const c = shape[3];
    // Conv outputs can sit far from zero relative to their spread: mean 40, std 0.5.
    const x = tf.tidy(() => tf.add(tf.mul(randn([...shape], 70), 0.5), 40)) as tf.Tensor4D;
    const g = tf.tidy(() => tf.add(randn([c], 71), 1)) as tf.Tensor1D;
    const b = randn([c], 72) as tf.Tensor1D;
    const r = randn([...shape], 73);
    const [y, dx, dg, db] = tf.tidy(() => {
      const out = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(bnSiluTrain(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, EPS).y, r)),
      )([x, g, b]);
      return [bnSiluTrain(x, g, b, EPS).y, ...out].map((t) => Array.from(t.dataSync()));
    });
    const ref = bnSiluReference(x.dataSync(), g.dataSync(), b.dataSync(), r.dataSync(), c);
    expect(relErr(y!, ref.y), 'y').toBeLessThan(1e-4);
    expect(relErr(dx!, ref.dx), 'dx').toBeLessThan(1e-4);
    expect(relErr(dg!, ref.dg), 'dgamma').toBeLessThan(1e-4);
    expect(relErr(db!, ref.db), 'dbeta').toBeLessThan(1e-4);
    tf.dispose([x, g, b, r]);
  });

  it('returns the batch mean and the unbiased variance (what PyTorch puts in running_var)', async () => {
    await useCpu();
    const x = randn([2, 3, 3, 2], 5) as tf.Tensor4D;
    const g = tf.ones([2]) as tf.Tensor1D;
    const b = tf.zeros([2]) as tf.Tensor1D;
    const { y, mean, variance } = bnSiluTrain(x, g, b);
    const data = x.dataSync();
    for (let c = 0; c < 2; c++) {
      const vals = Array.from(data).filter((_, i) => i % 2 === c);
      const mu = vals.reduce((s, v) => s + v, 0) / vals.length;
      const unbiased = vals.reduce((s, v) => s + (v - mu) ** 2, 0) / (vals.length - 1);
      expect(mean.dataSync()[c]).toBeCloseTo(mu, 5);
      expect(variance.dataSync()[c]).toBeCloseTo(unbiased, 5);
    }
    tf.dispose([x, g, b, y, mean, variance]);
  });

  it('updates running stats with momentum 0.03 inside a gradient computation, leaking nothing', async () => {
    await useWasm();
    const x = randn(SHAPE, 9) as tf.Tensor4D;
    const gamma = tf.variable(tf.ones([SHAPE[3]!]), true, 'g');
    const beta = tf.variable(tf.zeros([SHAPE[3]!]), true, 'b');
    const rm = tf.variable(tf.fill([SHAPE[3]!], 0.2), false, 'rm');
    const rv = tf.variable(tf.fill([SHAPE[3]!], 2), false, 'rv');
    const { mean: m0, variance: v0 } = tf.tidy(() => {
      const out = bnSiluTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D);
      return { mean: out.mean, variance: out.variance };
    });
    const expectMean = Array.from(m0.dataSync()).map((m) => 0.97 * 0.2 + 0.03 * m);
    const expectVar = Array.from(v0.dataSync()).map((v) => 0.97 * 2 + 0.03 * v);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const out = bnSiluTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D);
      updateRunningStats(rm, rv, out.mean, out.variance);
      return tf.sum(tf.square(out.y));
    }, [gamma, beta]);
    expect(Object.keys(grads).sort()).toEqual(['b', 'g']);
    expect(relErr(rm.dataSync(), expectMean)).toBeLessThan(1e-6);
    expect(relErr(rv.dataSync(), expectVar)).toBeLessThan(1e-6);
    tf.dispose([value, grads['g']!, grads['b']!]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta, rm, rv, m0, v0]);
  });
});
