import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  conv2dGradFilter,
  conv2dGradInput,
  convGeometry,
  registerConvGradient,
} from '../../../src/main/engine/tf/conv-grad.js';
import type { ConvPad } from '../../../src/main/engine/tf/conv-grad.js';
import { randn, relErr, useCpu, useWasm } from './util.js';

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** Kernel/stride combinations YOLOv5 uses (6x6 s2 p2 is v6's first conv), plus 1x1 s2. */
const GEOMS = [
  { k: 1, s: 1 },
  { k: 1, s: 2 },
  { k: 3, s: 1 },
  { k: 3, s: 2 },
  { k: 6, s: 2 },
];
const SIZES: [number, number][] = [
  [8, 8],
  [7, 9],
  [10, 7],
];

interface Case {
  n: number;
  hw: [number, number];
  k: number;
  s: number;
  pad: 'explicit' | 'prepad' | 'same';
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const n of [1, 3])
    for (const hw of SIZES)
      for (const g of GEOMS) for (const pad of ['explicit', 'prepad'] as const) out.push({ n, hw, ...g, pad });
  // tfjs 'same' (asymmetric for stride 2) also resolves through computeConv2DInfo.
  out.push({ n: 3, hw: [7, 9], k: 3, s: 2, pad: 'same' });
  return out;
}

/** Loss sum(conv(x, w) * r) written the two ways YOLOv5 padding can be expressed. */
function loss(c: Case, x: tf.Tensor4D, w: tf.Tensor4D, r: tf.Tensor): tf.Scalar {
  const p = Math.floor(c.k / 2);
  const explicit: Pad4 = [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  let y: tf.Tensor4D;
  if (c.pad === 'explicit') y = tf.conv2d(x, w, c.s, explicit);
  else if (c.pad === 'prepad') y = tf.conv2d(tf.pad(x, explicit), w, c.s, 'valid');
  else y = tf.conv2d(x, w, c.s, 'same');
  return tf.sum(tf.mul(y, r));
}

function outShape(c: Case, x: tf.Tensor4D, w: tf.Tensor4D): number[] {
  return tf.tidy(() => {
    const p = Math.floor(c.k / 2);
    const pad: ConvPad =
      c.pad === 'same'
        ? 'same'
        : [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ];
    return tf.conv2d(x, w, c.s, pad).shape;
  });
}

/** Gradients of the loss wrt x and w, as plain arrays, with the registered Conv2D gradient. */
function grads(c: Case, seed: number): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const ci = 3;
    const co = 5;
    const x = randn([c.n, c.hw[0], c.hw[1], ci], seed) as tf.Tensor4D;
    const w = randn([c.k, c.k, ci, co], seed + 1) as tf.Tensor4D;
    const r = randn(outShape(c, x, w), seed + 2);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(c, a as tf.Tensor4D, b as tf.Tensor4D, r))([x, w]);
    return { dx: g[0]!.dataSync() as Float32Array, dw: g[1]!.dataSync() as Float32Array };
  });
}

const label = (c: Case): string => `n${c.n} ${c.hw[0]}x${c.hw[1]} k${c.k} s${c.s} ${c.pad}`;

describe('Conv2D gradient rewritten as forward convs', () => {
  afterAll(() => registerConvGradient('auto'));

  it('matches the cpu backend own gradient for every kernel/stride/padding/size (cpu, forced custom)', async () => {
    await useCpu();
    const failures: string[] = [];
    let seed = 1;
    for (const c of cases()) {
      registerConvGradient('stock');
      const ref = grads(c, seed);
      registerConvGradient('custom');
      const got = grads(c, seed);
      const ex = relErr(got.dx, ref.dx);
      const ew = relErr(got.dw, ref.dw);
      if (!(ex < 1e-4 && ew < 1e-4)) failures.push(`${label(c)}: dx ${ex.toExponential(2)} dW ${ew.toExponential(2)}`);
      seed += 10;
    }
    expect(failures).toEqual([]);
  });

  it('matches the cpu backend own gradient when run on wasm (auto mode)', async () => {
    const failures: string[] = [];
    let seed = 1000;
    for (const c of cases().filter((_, i) => i % 2 === 0)) {
      await useCpu();
      registerConvGradient('stock');
      const ref = grads(c, seed);
      await useWasm();
      registerConvGradient('auto');
      const got = grads(c, seed);
      const ex = relErr(got.dx, ref.dx);
      const ew = relErr(got.dw, ref.dw);
      if (!(ex < 1e-4 && ew < 1e-4)) failures.push(`${label(c)}: dx ${ex.toExponential(2)} dW ${ew.toExponential(2)}`);
      seed += 10;
    }
    expect(failures).toEqual([]);
  });

  it('stock wasm cannot train a conv, the registered gradient can', async () => {
    await useWasm();
    const c: Case = { n: 1, hw: [6, 6], k: 3, s: 1, pad: 'explicit' };
    registerConvGradient('stock');
    expect(() => grads(c, 5)).toThrow(/Conv2DBackpropFilter/);
    registerConvGradient('auto');
    const g = grads(c, 5);
    expect(g.dw.every(Number.isFinite)).toBe(true);
  });

  it('exposes dx/dW directly with larger channel counts (wasm vs cpu kernels)', async () => {
    const shapes = { x: [2, 9, 10, 16], w: [3, 3, 16, 24] } as const;
    const pad: Pad4 = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    const run = (): number[][] =>
      tf.tidy(() => {
        const x = randn([...shapes.x], 7) as tf.Tensor4D;
        const w = randn([...shapes.w], 8) as tf.Tensor4D;
        const dy = randn(tf.conv2d(x, w, 2, pad).shape, 9) as tf.Tensor4D;
        const geom = convGeometry(x.shape, w.shape, 2, pad);
        return [
          Array.from(conv2dGradInput(x.shape, dy, w, geom).dataSync()),
          Array.from(conv2dGradFilter(x, dy, w.shape, geom).dataSync()),
          Array.from(tf.conv2dTranspose(dy, w, x.shape, 2, pad as never).dataSync()),
        ];
      });
    await useWasm();
    const [dxW, dwW] = run();
    await useCpu();
    const [dxC, dwC, dxStock] = run();
    expect(relErr(dxW!, dxStock!)).toBeLessThan(1e-4);
    expect(relErr(dxW!, dxC!)).toBeLessThan(1e-4);
    expect(relErr(dwW!, dwC!)).toBeLessThan(1e-4);
  });

  it('1x1 dW matches a float64 x^T dy with wider and narrower outputs (Co < Ci and Co > Ci, wasm)', async () => {
    await useWasm();
    for (const [ci, co] of [
      [24, 10],
      [10, 24],
    ] as const) {
      const [got, xs, dys] = tf.tidy(() => {
        const x = randn([3, 7, 5, ci], 20 + ci) as tf.Tensor4D;
        const dy = randn([3, 7, 5, co], 21 + co) as tf.Tensor4D;
        const geom = convGeometry(x.shape, [1, 1, ci, co], 1, 'valid');
        return [conv2dGradFilter(x, dy, [1, 1, ci, co], geom), x, dy].map((t) => Array.from(t.dataSync()));
      });
      const ref = new Array<number>(ci * co).fill(0);
      for (let m = 0; m < 3 * 7 * 5; m++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) ref[i * co + o]! += xs![m * ci + i]! * dys![m * co + o]!;
      expect(relErr(got!, ref), `${ci}->${co}`).toBeLessThan(1e-5);
    }
  });

  it('leaks no tensors through a gradient step', async () => {
    await useWasm();
    registerConvGradient('auto');
    const c: Case = { n: 2, hw: [7, 7], k: 6, s: 2, pad: 'explicit' };
    grads(c, 3); // warm-up allocations of the backend
    const before = tf.memory().numTensors;
    grads(c, 3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('registration is idempotent', async () => {
    registerConvGradient('auto');
    const cfg = tf.getGradient('Conv2D');
    registerConvGradient('auto');
    expect(tf.getGradient('Conv2D')).toBe(cfg);
  });
});
