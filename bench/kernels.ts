/**
 * Microbenchmark of the training kernels in src/main/engine/tf on the WASM backend (median ms of
 * a few runs after warm-up). Run: `node --import tsx bench/kernels.ts [conv|bn|up]...`
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/engine/tf/backend.js';
import { conv2dGradFilter, conv2dGradInput, convGeometry } from '../src/main/engine/tf/conv-grad.js';
import { bnSiluEval, bnSiluTrain } from '../src/main/engine/tf/bn-silu.js';
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

const which = process.argv.slice(2);
const report = await initBackend({ prefer: 'wasm' });
console.log(`backend ${report.name}`);
if (which.length === 0 || which.includes('conv')) benchConv();
if (which.length === 0 || which.includes('bn')) benchBn();
if (which.length === 0 || which.includes('up')) benchUp();
