/**
 * Microbenchmark of the training kernels in src/main/engine/tf on the WASM backend (median ms of
 * a few runs after warm-up). Run: `node --import tsx bench/kernels.ts [conv|bn|up|reduce|subpixel|dw1x1|bnstep]...`
 * The last four compare the current kernels with the ones they replaced (kept below as
 * `previous*`), in the same process, at the batch-8 / img-320 shapes of a yolov5n training step.
 * Writes bench/results/kernels.json (the comparisons, with the date and the load average).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/engine/tf/backend.js';
import { conv2dGradFilter, conv2dGradInput, convGeometry } from '../src/main/engine/tf/conv-grad.js';
import { bnSiluEval, bnSiluTrain } from '../src/main/engine/tf/bn-silu.js';
import { channelSum } from '../src/main/engine/tf/channel.js';
import { upsample2x } from '../src/main/engine/tf/upsample.js';

const WARMUP = 2;
const RUNS = 5;

/** Median wall time of fn (its result is read back so the work is done), in ms. */
function time(fn: () => tf.Tensor): number {
  const ms: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    const out = fn();
    out.dataSync();
    const dt = performance.now() - t0;
    out.dispose();
    if (i >= WARMUP) ms.push(dt);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)] ?? NaN;
}

function benchConv(): void {
  const cases: { label: string; x: [number, number, number, number]; k: number; s: number; co: number }[] = [
    { label: '3x3 s1 [16,40,40,64]->64', x: [16, 40, 40, 64], k: 3, s: 1, co: 64 },
    { label: '3x3 s2 [16,40,40,64]->64', x: [16, 40, 40, 64], k: 3, s: 2, co: 64 },
    { label: '1x1 s1 [16,80,80,32]->32', x: [16, 80, 80, 32], k: 1, s: 1, co: 32 },
  ];
  for (const c of cases) {
    const p = Math.floor(c.k / 2);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const w = tf.randomNormal([c.k, c.k, c.x[3], c.co]) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.s, pad);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const geom = convGeometry(x.shape, w.shape, c.s, pad);
    const fwd = time(() => tf.conv2d(x, w, c.s, pad));
    const dx = time(() => conv2dGradInput(x.shape, dy, w, geom));
    const dxStock = c.s === 1 || c.k === 3 ? time(() => tf.conv2dTranspose(dy, w, x.shape, c.s, pad as never)) : NaN;
    const dw = time(() => conv2dGradFilter(x, dy, w.shape, geom));
    console.log(
      `${c.label}: forward ${fwd.toFixed(1)} ms, dx ${dx.toFixed(1)} ms (stock Conv2DBackpropInput ${dxStock.toFixed(1)}), dW ${dw.toFixed(1)} ms`,
    );
    tf.dispose([x, w, y, dy]);
  }
}

/** Forward + backward (grads wrt x, gamma, beta) of train-mode BN + SiLU, fused vs tf ops. */
function benchBn(): void {
  const shape: [number, number, number, number] = [16, 80, 80, 32];
  const x = tf.randomNormal(shape) as tf.Tensor4D;
  const g = tf.randomNormal([32]) as tf.Tensor1D;
  const b = tf.randomNormal([32]) as tf.Tensor1D;
  const rm = tf.randomNormal([32]) as tf.Tensor1D;
  const rv = tf.add(tf.abs(tf.randomNormal([32])), 0.5) as tf.Tensor1D;
  const unfused = (xi: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D): tf.Tensor => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    const z = tf.batchNorm(xi, mean, variance, bi, gi, 1e-3);
    return tf.mul(z, tf.sigmoid(z));
  };
  const step = (fn: (xi: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D) => tf.Tensor) => () =>
    tf.tidy(() => {
      const gr = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.sum(fn(a as tf.Tensor4D, c as tf.Tensor1D, d as tf.Tensor1D)),
      )([x, g, b]);
      return tf.addN([tf.sum(gr[0]!), tf.sum(gr[1]!), tf.sum(gr[2]!)]);
    });
  const fwd = (fn: (xi: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D) => tf.Tensor) => () =>
    tf.tidy(() => fn(x, g, b));
  const fused = (xi: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D): tf.Tensor => bnSiluTrain(xi, gi, bi).y;
  console.log(
    `BN+SiLU train [16,80,80,32]: fused forward ${time(fwd(fused)).toFixed(1)} ms, forward+backward ${time(step(fused)).toFixed(1)} ms; ` +
      `unfused (tf.moments + tf.batchNorm + x*sigmoid) forward ${time(fwd(unfused)).toFixed(1)} ms, forward+backward ${time(step(unfused)).toFixed(1)} ms`,
  );
  const evalFused = (xi: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D): tf.Tensor => bnSiluEval(xi, gi, bi, rm, rv);
  const evalUnfused = (xi: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D): tf.Tensor => {
    const z = tf.batchNorm(xi, rm, rv, bi, gi, 1e-3);
    return tf.mul(z, tf.sigmoid(z));
  };
  console.log(
    `BN+SiLU eval [16,80,80,32]: fused forward+backward ${time(step(evalFused)).toFixed(1)} ms; unfused ${time(step(evalUnfused)).toFixed(1)} ms`,
  );
  tf.dispose([x, g, b, rm, rv]);
}

/** Nearest 2x upsample forward and backward at a YOLOv5n-320 size. */
function benchUp(): void {
  const x = tf.randomNormal([16, 20, 20, 128]) as tf.Tensor4D;
  const dy = tf.randomNormal([16, 40, 40, 128]);
  const fwd = time(() => upsample2x(x));
  const both = time(() =>
    tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsample2x(a as tf.Tensor4D), dy)))(x)),
  );
  const resize = time(() =>
    tf.tidy(() =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [40, 40]), dy)))(x),
    ),
  );
  console.log(
    `upsample2x [16,20,20,128]: forward ${fwd.toFixed(1)} ms, forward+backward ${both.toFixed(1)} ms (tf.image.resizeNearestNeighbor forward+backward ${resize.toFixed(1)} ms)`,
  );
  tf.dispose([x, dy]);
}

type Fn = (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** Wall ms of fn on fresh copies of `inputs` (XNNPACK caches packed operands by tensor). */
function runFresh(inputs: tf.Tensor[], fn: Fn): number {
  const copies = inputs.map((t) => tf.add(t, 0));
  copies.forEach((t) => t.dataSync());
  const t0 = performance.now();
  const out = fn(...copies);
  const outs = Array.isArray(out) ? out : [out];
  outs.forEach((t) => t.dataSync());
  const dt = performance.now() - t0;
  tf.dispose([...outs, ...copies]);
  return dt;
}

const PAIR_RUNS = 15;

/**
 * Median ms of a and b, run alternately on the same inputs so that both see the same load (the
 * machine's other core runs other jobs).
 */
function timePair(inputs: tf.Tensor[], a: Fn, b: Fn): [number, number] {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < WARMUP + PAIR_RUNS; i++) {
    const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
    const t1 = runFresh(inputs, first);
    const t2 = runFresh(inputs, second);
    if (i < WARMUP) continue;
    ta.push(first === a ? t1 : t2);
    tb.push(first === a ? t2 : t1);
  }
  const median = (v: number[]) => v.sort((x, y) => x - y)[Math.floor(v.length / 2)] ?? NaN;
  return [median(ta), median(tb)];
}

interface Comparison {
  kernel: string;
  shape: string;
  previousMs: number;
  currentMs: number;
}
const comparisons: Comparison[] = [];
function compare(kernel: string, shape: string, inputs: tf.Tensor[], previous: Fn, current: Fn): void {
  const [previousMs, currentMs] = timePair(inputs, previous, current);
  comparisons.push({ kernel, shape, previousMs, currentMs });
  console.log(
    `${kernel} ${shape}: previous ${previousMs.toFixed(2)} ms, current ${currentMs.toFixed(2)} ms (${(previousMs / currentMs).toFixed(1)}x)`,
  );
}

/** The BatchNorm activation shapes of a yolov5n step at img 320, batch 8. */
const BN_SHAPES: [number, number, number, number][] = [
  [8, 160, 160, 16],
  [8, 80, 80, 32],
  [8, 40, 40, 64],
  [8, 20, 20, 128],
  [8, 10, 10, 256],
];

/** Per-channel sum over N,H,W: tf.sum (what BatchNorm and bias gradients used) vs channelSum. */
function benchReduce(): void {
  for (const shape of [...BN_SHAPES, [8, 40, 40, 255] as [number, number, number, number]]) {
    const x = tf.randomNormal(shape);
    compare(
      'per-channel sum',
      JSON.stringify(shape),
      [x],
      (a) => tf.sum(a as tf.Tensor, [0, 1, 2]),
      (a) => channelSum(a as tf.Tensor),
    );
    x.dispose();
  }
}

/** The sub-pixel dx kernel as it was built: two GatherV2 over the zero-padded filter. */
function previousSubPixelKernel(w: tf.Tensor4D, tapsH: number[], tapsW: number[], k2: number, s: number) {
  return tf.tidy(() => {
    const [, , ci, co] = w.shape;
    const wz = tf.pad(w, [
      [0, 1],
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
    const g = tf.gather(tf.gather(wz, tf.tensor1d(tapsH, 'int32'), 0), tf.tensor1d(tapsW, 'int32'), 1);
    if (s === 1) return tf.transpose(g, [0, 1, 3, 2]);
    const g6 = tf.reshape(g, [k2, s, k2, s, ci, co]);
    return tf.reshape(tf.transpose(g6, [0, 2, 5, 1, 3, 4]), [k2, k2, co, s * s * ci]);
  });
}

/** Whole dx (kernel construction + conv + interleave), previous kernel construction vs current. */
function benchSubPixel(): void {
  const cases = [
    { x: [8, 40, 40, 64], k: 3, s: 1, co: 64, tapsH: [2, 1, 0], k2: 3 },
    { x: [8, 20, 20, 128], k: 3, s: 2, co: 256, tapsH: [1, 2, 3, 0], k2: 2 },
    { x: [8, 10, 10, 128], k: 3, s: 1, co: 128, tapsH: [2, 1, 0], k2: 3 },
  ] as const;
  for (const c of cases) {
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    const xShape = [...c.x] as [number, number, number, number];
    const w = tf.randomNormal([c.k, c.k, xShape[3], c.co]) as tf.Tensor4D;
    const geom = convGeometry(xShape, w.shape, c.s, pad);
    const taps = [...c.tapsH];
    compare(
      'dx sub-pixel kernel build',
      `3x3 s${c.s} ${xShape[3]}->${c.co}`,
      [w],
      (a) => previousSubPixelKernel(a as tf.Tensor4D, taps, taps, c.k2, c.s),
      // conv2dGradInput on a 1-pixel dy measures the kernel build (the conv itself is negligible).
      (a) =>
        tf.tidy(() =>
          conv2dGradInput([1, c.s, c.s, xShape[3]], tf.zeros([1, 1, 1, c.co]) as tf.Tensor4D, a as tf.Tensor4D, geom),
        ),
    );
    w.dispose();
  }
}

/**
 * 1x1 conv dW where Co < Ci (C3 cv1/cv2, SPPF, head convs): (dy^T x)^T, transposing the narrower
 * dy (tried, as "previous") vs x^T dy (kept, conv2dGradFilter, as "current").
 */
function benchDw1x1(): void {
  for (const [m, ci, co] of [
    [8 * 160 * 160, 32, 16],
    [8 * 80 * 80, 64, 32],
    [8 * 40 * 40, 128, 64],
    [8 * 10 * 10, 256, 128],
  ] as const) {
    const x = tf.randomNormal([8, m / 8, 1, ci]) as tf.Tensor4D;
    const dy = tf.randomNormal([8, m / 8, 1, co]) as tf.Tensor4D;
    const geom = convGeometry(x.shape, [1, 1, ci, co], 1, 'valid');
    compare(
      '1x1 conv dW, transpose dy (tried) vs x (kept)',
      `M=${m} ${ci}->${co}`,
      [x, dy],
      (a, b) =>
        tf.tidy(() =>
          tf.transpose(
            tf.matMul(tf.transpose(tf.reshape(b as tf.Tensor, [m, co])), tf.reshape(a as tf.Tensor, [m, ci])),
          ),
        ),
      (a, b) => conv2dGradFilter(a as tf.Tensor4D, b as tf.Tensor4D, [1, 1, ci, co], geom),
    );
    tf.dispose([x, dy]);
  }
}

/** The train-mode BatchNorm + SiLU forward and backward as they were before the rewrite. */
function previousBnSiluTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-3): tf.Tensor4D {
  const m = x.shape[0] * x.shape[1] * x.shape[2];
  const silu = (dy: tf.Tensor, z: tf.Tensor) => {
    const s = tf.sigmoid(z);
    return tf.mul(dy, tf.mul(s, tf.add(1, tf.mul(z, tf.sub(1, s)))));
  };
  const f = tf.customGrad<tf.Tensor4D>((xi, gi, bi, saveArg) => {
    const save = saveArg as tf.GradSaveFunc;
    const [x4, g, b] = [xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D];
    const mean = tf.mean(x4, [0, 1, 2]);
    const centered = tf.sub(x4, mean);
    const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), [0, 1, 2]), eps));
    const z = tf.add(tf.mul(centered, tf.mul(g, invStd)), b);
    save([x4, g, b, mean, invStd]);
    return {
      value: tf.mul(z, tf.sigmoid(z)) as tf.Tensor4D,
      gradFunc: (dy, saved) => {
        const [sx, sg, sb, smean, sinv] = saved as tf.Tensor[] as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        const xhat = tf.mul(tf.sub(sx, smean), sinv);
        const dz = silu(dy, tf.add(tf.mul(xhat, sg), sb));
        const dBeta = tf.sum(dz, [0, 1, 2]);
        const dGamma = tf.sum(tf.mul(dz, xhat), [0, 1, 2]);
        const dx = tf.mul(tf.sub(tf.sub(dz, tf.div(dBeta, m)), tf.mul(xhat, tf.div(dGamma, m))), tf.mul(sg, sinv));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return f(x, gamma, beta);
}

/** BatchNorm + SiLU train mode, forward and forward+backward, previous vs current. */
function benchBnStep(): void {
  for (const shape of BN_SHAPES) {
    const c = shape[3];
    const x = tf.randomNormal(shape);
    const g = tf.randomNormal([c]);
    const b = tf.randomNormal([c]);
    const dy = tf.randomNormal(shape);
    type Bn = (a: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D) => tf.Tensor;
    const both =
      (fn: Bn): Fn =>
      (xi, gi, bi, dyi) =>
        tf.tidy(() =>
          tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.mul(fn(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D), dyi as tf.Tensor)),
          )([xi as tf.Tensor, gi as tf.Tensor, bi as tf.Tensor]),
        );
    const fwd =
      (fn: Bn): Fn =>
      (xi, gi, bi) =>
        tf.tidy(() => fn(xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D));
    const current = (a: tf.Tensor4D, gi: tf.Tensor1D, bi: tf.Tensor1D) => {
      const r = bnSiluTrain(a, gi, bi);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    };
    const label = JSON.stringify(shape);
    compare('BN+SiLU train forward', label, [x, g, b], fwd(previousBnSiluTrain), fwd(current));
    compare('BN+SiLU train forward+backward', label, [x, g, b, dy], both(previousBnSiluTrain), both(current));
    tf.dispose([x, g, b, dy]);
  }
}

const which = process.argv.slice(2);
const on = (name: string) => which.length === 0 || which.includes(name);
const report = await initBackend({ prefer: 'wasm' });
const loadBefore = os.loadavg()[0];
console.log(`backend ${report.name}, 1-minute load ${loadBefore?.toFixed(2)}`);
if (on('conv')) benchConv();
if (on('bn')) benchBn();
if (on('up')) benchUp();
if (on('reduce')) benchReduce();
if (on('subpixel')) benchSubPixel();
if (on('dw1x1')) benchDw1x1();
if (on('bnstep')) benchBnStep();
if (comparisons.length > 0) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const loadavg1 = [loadBefore, os.loadavg()[0]];
  console.log(`1-minute load average ${loadavg1.map((l) => l?.toFixed(2)).join(' -> ')}`);
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    path.join(root, 'bench', 'results', 'kernels.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadavg1 },
        comparisons,
      },
      null,
      2,
    )}\n`,
  );
}
