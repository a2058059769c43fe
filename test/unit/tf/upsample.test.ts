import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { upsample2x } from '../../../src/main/engine/tf/upsample.js';
import { randn, relErr, useCpu, useWasm } from './util.js';

const [N, H, W, C] = [3, 5, 4, 3];

/** Nearest 2x in plain JS: out[n, y, x, c] = in[n, y>>1, x>>1, c]. */
function expectedForward(x: Float32Array): Float32Array {
  const out = new Float32Array(N * 4 * H * W * C);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < 2 * H; y++)
      for (let xx = 0; xx < 2 * W; xx++)
        for (let c = 0; c < C; c++)
          out[((n * 2 * H + y) * 2 * W + xx) * C + c] = x[((n * H + (y >> 1)) * W + (xx >> 1)) * C + c]!;
  return out;
}

/** Gradient in plain JS: each input pixel gets the sum of its 2x2 output block. */
function expectedGrad(dy: Float32Array): Float32Array {
  const out = new Float32Array(N * H * W * C);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < 2 * H; y++)
      for (let xx = 0; xx < 2 * W; xx++)
        for (let c = 0; c < C; c++)
          out[((n * H + (y >> 1)) * W + (xx >> 1)) * C + c]! += dy[((n * 2 * H + y) * 2 * W + xx) * C + c]!;
  return out;
}

describe('upsample2x (nearest, reshape + broadcast)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`forward and gradient are exact for batch ${N}, odd height (${backend})`, async () => {
      await (backend === 'cpu' ? useCpu() : useWasm());
      const [y, dx, dyData, xData] = tf.tidy(() => {
        const x = randn([N, H, W, C], 3) as tf.Tensor4D;
        const dy = randn([N, 2 * H, 2 * W, C], 4);
        const up = upsample2x(x);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsample2x(a as tf.Tensor4D), dy)))(x);
        return [up, g, dy, x].map((t) => t.dataSync() as Float32Array);
      });
      expect(relErr(y!, expectedForward(xData!))).toBe(0);
      expect(relErr(dx!, expectedGrad(dyData!))).toBeLessThan(1e-6);
    });
  }

  it('agrees with tf.image.resizeNearestNeighbor forward', async () => {
    await useWasm();
    const ok = tf.tidy(() => {
      const x = randn([2, 3, 7, 5], 8) as tf.Tensor4D;
      const a = upsample2x(x).dataSync();
      const b = tf.image.resizeNearestNeighbor(x, [6, 14]).dataSync();
      return relErr(a, b);
    });
    expect(ok).toBe(0);
  });
});
