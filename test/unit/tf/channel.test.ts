import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { addChannelBias, channelMean, channelSum } from '../../../src/main/engine/tf/channel.js';
import { randn, relErr, useCpu, useWasm } from './util.js';

/** Per-channel sums in float64, over every axis but the last. */
function refSum(data: ArrayLike<number>, c: number): number[] {
  const out = new Array<number>(c).fill(0);
  for (let i = 0; i < data.length; i++) out[i % c]! += data[i] ?? NaN;
  return out;
}

const SHAPES = [
  [3, 5, 7, 4],
  [2, 33, 17, 19],
  [11, 6],
  [2, 3, 4, 5, 6],
];

describe('per-channel reductions (global average pooling)', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`channelSum and channelMean match a float64 sum for ranks 2, 4 and 5 (${backend})`, async () => {
      await (backend === 'cpu' ? useCpu() : useWasm());
      for (const [i, shape] of SHAPES.entries()) {
        const c = shape[shape.length - 1]!;
        // An offset makes the sums large relative to their spread, as BatchNorm inputs can be.
        const x = tf.tidy(() => tf.add(randn(shape, 30 + i), 3));
        const ref = refSum(x.dataSync(), c);
        const m = x.size / c;
        const sum = channelSum(x);
        const mean = channelMean(x);
        expect(sum.shape).toEqual([c]);
        expect(relErr(sum.dataSync(), ref), `sum ${shape.join('x')}`).toBeLessThan(1e-5);
        expect(
          relErr(
            mean.dataSync(),
            ref.map((v) => v / m),
          ),
          `mean ${shape.join('x')}`,
        ).toBeLessThan(1e-5);
        tf.dispose([x, sum, mean]);
      }
    });
  }

  it('addChannelBias: value and gradients match tf.add on the cpu backend (run on wasm)', async () => {
    const run = (add: (x: tf.Tensor, b: tf.Tensor1D) => tf.Tensor): Float32Array[] =>
      tf.tidy(() => {
        const x = randn([2, 9, 7, 6], 50);
        const b = randn([6], 51) as tf.Tensor1D;
        const r = randn([2, 9, 7, 6], 52);
        const y = add(x, b);
        const g = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(add(a, c as tf.Tensor1D), r)))([x, b]);
        return [y, ...g].map((t) => t.dataSync() as Float32Array);
      });
    await useCpu();
    const ref = run((x, b) => tf.add(x, b));
    await useWasm();
    const got = run(addChannelBias);
    ['y', 'dx', 'dbias'].forEach((name, i) => expect(relErr(got[i]!, ref[i]!), name).toBeLessThan(1e-5));
  });

  it('leaks no tensors', async () => {
    await useWasm();
    const x = randn([2, 4, 4, 3], 60);
    const b = tf.variable(tf.zeros([3]), true, 'channel-test-bias');
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(addChannelBias(x, b as tf.Tensor1D))), [b]);
    tf.dispose([value, ...Object.values(grads)]);
    tf.dispose([channelSum(x), channelMean(x)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, b]);
  });
});
