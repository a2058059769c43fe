import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinModelYaml } from '../../../src/main/engine/model/builtin.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { YoloModel } from '../../../src/main/engine/model/forward.js';
import { ModelLoadError } from '../../../src/main/engine/model/load.js';
import { modelYamlFromObject, parseModelYaml } from '../../../src/main/engine/model/yaml.js';
import type { NamedTensors } from '../../../src/main/engine/host-tensor.js';
import { readYoloCheckpoint } from '../../../src/main/engine/weights/pt.js';
import { readNpy } from '../../helpers/npy.js';
import { describeShared, shared } from '../../helpers/shared.js';
import { LEGACY_YAML, YOLOV5N6_YAML } from './fixtures.js';

const require = createRequire(import.meta.url);

beforeAll(async () => {
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(`${dist}/`);
  await tf.setBackend('wasm');
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>, pick: (i: number) => boolean = () => true): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) if (pick(i)) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

function nhwcInput(file: string): tf.Tensor4D {
  const npy = readNpy(file);
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(npy.data, npy.shape as [number, number, number, number]), [0, 2, 3, 1]),
  );
}

describeShared('yolov5n.pt on the wasm backend', () => {
  let tensors: NamedTensors;
  let model: YoloModel;
  let x: tf.Tensor4D;
  beforeAll(() => {
    tensors = readYoloCheckpoint(new Uint8Array(readFileSync(shared('weights', 'yolov5n.pt'))), 'yolov5n.pt').tensors;
    model = YoloModel.create(buildGraph(builtinModelYaml('yolov5n')));
    const report = model.loadTensors(tensors, { source: 'yolov5n.pt' });
    expect(report.loaded).toHaveLength(349);
    expect(report.skipped).toEqual([]);
    x = nhwcInput(shared('reference', 'bus320-input-nchw.npy'));
  });

  it("builds the checkpoint's own yaml dict like the built-in model", () => {
    const ck = readYoloCheckpoint(new Uint8Array(readFileSync(shared('weights', 'yolov5n.pt'))), 'yolov5n.pt');
    const g = buildGraph(modelYamlFromObject(ck.yaml, 'yolov5n.pt'));
    expect(g.tensors).toEqual(model.graph.tensors);
  });

  it('reproduces the raw Detect maps and decoded predictions of PyTorch', () => {
    const raws = model.forward(x, { training: false });
    raws.forEach((raw, l) => {
      const ref = readNpy(shared('reference', `bus320-raw-p${l + 3}.npy`));
      expect(raw.shape).toEqual(ref.shape);
      expect(maxAbs(raw.dataSync(), ref.data)).toBeLessThan(1e-3);
    });
    const decoded = model.decode(raws);
    const ref = readNpy(shared('reference', 'bus320-decoded.npy'));
    expect(decoded.shape).toEqual(ref.shape);
    const got = decoded.dataSync();
    expect(maxAbs(got, ref.data, (i) => i % 85 < 4)).toBeLessThan(1e-2);
    expect(maxAbs(got, ref.data, (i) => i % 85 >= 4)).toBeLessThan(1e-4);
    tf.dispose([...raws, decoded]);
  });

  it('repeated eval forwards give bit-identical maps and leave no tensor behind (timing: bench/forward.ts)', async () => {
    const first = tf.tidy(() => model.forward(x, { training: false }));
    const expected = await Promise.all(first.map((r) => r.data()));
    tf.dispose(first);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 2; k++) {
      const raws = tf.tidy(() => model.forward(x, { training: false }));
      const got = await Promise.all(raws.map((r) => r.data()));
      tf.dispose(raws);
      got.forEach((g, level) =>
        expect(Buffer.from(g.buffer).equals(Buffer.from(expected[level]!.buffer)), `level ${level}`).toBe(true),
      );
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('running a frozen prefix separately gives the same maps', () => {
    const full = model.forward(x, { training: false });
    const prefix = model.runModules(model.begin(x), 0, 10, { training: false });
    expect([...prefix.outputs.keys()].sort((a, b) => a - b)).toEqual([4, 6, 9]);
    const rest = model.runModules(prefix, 10, 25, { training: false });
    rest.raws?.forEach((r, l) => expect(maxAbs(r.dataSync(), (full[l] as tf.Tensor).dataSync())).toBe(0));
    expect(() => model.runModules(prefix, 11, 25, { training: false })).toThrow(/state is at module 10/);
  });

  it('exports every tensor back in PyTorch layout', () => {
    const out = model.exportTensors();
    expect([...out.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const e = out.get(name);
      expect(e?.shape, name).toEqual(t.shape);
      expect(e?.dtype, name).toBe(t.dtype);
      const a = e?.data;
      const b = t.data;
      let same = a !== undefined && a.length === b.length;
      for (let i = 0; same && i < b.length; i++) same = a?.[i] === b[i];
      expect(same, name).toBe(true);
    }
  });

  it('loads into nc=3: transfers all but the Detect convs and re-initialises those', () => {
    const m3 = YoloModel.create(buildGraph(builtinModelYaml('yolov5n'), { nc: 3 }));
    const report = m3.loadTensors(tensors, { source: 'yolov5n.pt' });
    const detectNames = [0, 1, 2].flatMap((j) => [`model.24.m.${j}.weight`, `model.24.m.${j}.bias`]);
    expect(report.reinitialised).toEqual(detectNames);
    expect(report.skipped.map((s) => s.name)).toEqual(detectNames);
    expect(report.skipped[0]).toMatchObject({
      reason: 'shape',
      checkpointShape: [255, 64, 1, 1],
      modelShape: [24, 64, 1, 1],
    });
    expect(report.loaded).toHaveLength(349 - 6);
    const out = m3.exportTensors();
    expect([...(out.get('model.23.cv3.conv.weight')?.data ?? [])]).toEqual([
      ...(tensors.get('model.23.cv3.conv.weight')?.data ?? []),
    ]);
    // Bias prior on P3 (stride 8): objectness around log(8/80^2), classes around log(0.6/2.00001).
    const bias = out.get('model.24.m.0.bias')?.data as Float32Array;
    const bound = 1 / Math.sqrt(64);
    expect(Math.abs((bias[4] ?? 0) - Math.log(8 / 6400))).toBeLessThanOrEqual(bound);
    expect(Math.abs((bias[5] ?? 0) - Math.log(0.6 / (3 - 0.99999)))).toBeLessThanOrEqual(bound);
    const raws = m3.forward(x, { training: false });
    expect(raws.map((r) => r.shape)).toEqual([
      [1, 3, 40, 40, 8],
      [1, 3, 20, 20, 8],
      [1, 3, 10, 10, 8],
    ]);
    tf.dispose(raws);
    m3.dispose();
  });

  it('refuses a checkpoint of another architecture, naming the first mismatches', () => {
    const s = YoloModel.create(buildGraph(builtinModelYaml('yolov5s')));
    let err: unknown;
    try {
      s.loadTensors(tensors, { source: 'yolov5n.pt' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(String(err)).toContain('yolov5n.pt does not fit built-in yolov5s');
    expect(String(err)).toContain('model.0.conv.weight is [16,3,6,6] in yolov5n.pt but [32,3,6,6] in built-in yolov5s');
    expect(String(err)).toMatch(/and \d+ more/);
    s.dispose();
  });

  it('updates BatchNorm running statistics in train mode with momentum 0.03, except eval modules', () => {
    const m = YoloModel.create(buildGraph(builtinModelYaml('yolov5n')));
    m.loadTensors(tensors);
    const rm0 = m.buffers.get('model.0.bn.running_mean')?.variable.dataSync().slice() as Float32Array;
    const rv0 = m.buffers.get('model.0.bn.running_var')?.variable.dataSync().slice() as Float32Array;
    const rm1 = m.buffers.get('model.1.bn.running_mean')?.variable.dataSync().slice() as Float32Array;
    const { mean, variance } = tf.tidy(() => {
      const w = m.params.get('model.0.conv.weight')?.variable as tf.Tensor4D;
      const z = tf.conv2d(x, w, 2, [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ]);
      return tf.moments(z, [0, 1, 2]);
    });
    const n = 160 * 160;
    tf.dispose(tf.tidy(() => m.forward(x, { training: true, bnEvalModules: new Set([1]) })));
    const rm = m.buffers.get('model.0.bn.running_mean')?.variable.dataSync() as Float32Array;
    const rv = m.buffers.get('model.0.bn.running_var')?.variable.dataSync() as Float32Array;
    const expMean = Array.from(mean.dataSync(), (b, i) => 0.97 * (rm0[i] ?? 0) + 0.03 * b);
    const expVar = Array.from(variance.dataSync(), (b, i) => 0.97 * (rv0[i] ?? 0) + 0.03 * b * (n / (n - 1)));
    expect(maxAbs(rm, expMean)).toBeLessThan(1e-4);
    expect(maxAbs(rv, expVar)).toBeLessThan(1e-3 * Math.max(...expVar));
    expect([...(m.buffers.get('model.1.bn.running_mean')?.variable.dataSync() ?? [])]).toEqual([...rm1]);
    const counters = m.exportTensors();
    expect(counters.get('model.0.bn.num_batches_tracked')?.data[0]).toBe(2n);
    expect(counters.get('model.1.bn.num_batches_tracked')?.data[0]).toBe(1n);
    // Another momentum when asked (micro-batches use a smaller one per part).
    const before = rm.slice();
    tf.dispose(tf.tidy(() => m.forward(x, { training: true, bnMomentum: 0.1 })));
    const after = m.buffers.get('model.0.bn.running_mean')?.variable.dataSync() as Float32Array;
    expect(
      maxAbs(
        after,
        Array.from(mean.dataSync(), (b, i) => 0.9 * (before[i] ?? 0) + 0.1 * b),
      ),
    ).toBeLessThan(1e-4);
    tf.dispose([mean, variance]);
    m.dispose();
  });
});

describe('other layouts run forward', () => {
  it('P6 model: four levels with strides 8-64', () => {
    const m = YoloModel.create(buildGraph(parseModelYaml(YOLOV5N6_YAML, 'yolov5n6.yaml')), { seed: 1 });
    const raws = tf.tidy(() => m.forward(tf.randomUniform([1, 128, 128, 3]) as tf.Tensor4D, { training: false }));
    expect(raws.map((r) => r.shape)).toEqual([
      [1, 3, 16, 16, 85],
      [1, 3, 8, 8, 85],
      [1, 3, 4, 4, 85],
      [1, 3, 2, 2, 85],
    ]);
    const dec = m.decode(raws);
    expect(dec.shape).toEqual([1, 3 * (256 + 64 + 16 + 4), 85]);
    tf.dispose([...raws, dec]);
    m.dispose();
  });

  it('Focus, BottleneckCSP, SPP and repeated Conv, in eval and train mode', () => {
    const m = YoloModel.create(buildGraph(parseModelYaml(LEGACY_YAML, 'legacy.yaml')), { seed: 2 });
    const input = tf.randomUniform([2, 64, 64, 3]) as tf.Tensor4D;
    for (const training of [false, true]) {
      const raws = tf.tidy(() => m.forward(input, { training }));
      expect(raws.map((r) => r.shape)).toEqual([
        [2, 3, 16, 16, 8],
        [2, 3, 8, 8, 8],
      ]);
      expect(raws.every((r) => r.dataSync().every(Number.isFinite))).toBe(true);
      tf.dispose(raws);
    }
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(() => m.forward(input, { training: true })));
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
    m.dispose();
  });
});
