/**
 * The ONNX graph of every block kind (Focus, BottleneckCSP, SPP, repeated Conv, Bottleneck, P6
 * with four Detect levels) computes what FreezeLab's forward computes, with BatchNorm statistics
 * that are not the identity, so the folding is checked too. No ../shared needed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnnxModel, namesMetadata, parseNamesMetadata } from '../../../src/main/engine/export/onnx.js';
import { predict } from '../../../src/main/engine/infer/detect.js';
import { YoloModel } from '../../../src/main/engine/model/forward.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { parseModelYaml } from '../../../src/main/engine/model/yaml.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import type { Service } from '../../../src/main/service/service.js';
import { tempDir, testService } from '../../helpers/service.js';
import { LEGACY_YAML, YOLOV5N6_YAML } from '../model/fixtures.js';

/** A deterministic pseudo-random stream in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** BatchNorm statistics away from (0, 1) and non-trivial Detect biases, so folding matters. */
function perturb(model: YoloModel, seed: number): void {
  const r = rng(seed);
  for (const [name, t] of model.buffers) {
    const n = t.variable.size;
    if (name.endsWith('.running_mean'))
      t.variable.assign(
        tf.tensor(
          Array.from({ length: n }, () => r() - 0.5),
          t.variable.shape,
        ),
      );
    if (name.endsWith('.running_var'))
      t.variable.assign(
        tf.tensor(
          Array.from({ length: n }, () => 0.5 + r()),
          t.variable.shape,
        ),
      );
  }
  for (const [name, t] of model.params) {
    if (!/\.bn\.(weight|bias)$/.test(name)) continue;
    const n = t.variable.size;
    const base = name.endsWith('weight') ? 0.5 : -0.25;
    t.variable.assign(
      tf.tensor(
        Array.from({ length: n }, () => base + r() * 0.5),
        t.variable.shape,
      ),
    );
  }
}

async function compare(yamlText: string, source: string, size: number, seed: number) {
  const graph = buildGraph(parseModelYaml(yamlText, source));
  const model = YoloModel.create(graph, { seed });
  try {
    perturb(model, seed);
    const names = Array.from({ length: graph.nc }, (_, i) => `c${i}`);
    const onnx = buildOnnxModel(graph, model.exportTensors(), { height: size, width: size, names, version: '0.0.0' });
    const file = path.join(tempDir('freezelab-onnx-graph-'), 'm.onnx');
    writeFileSync(file, onnx.bytes);
    const r = rng(seed + 1);
    const nhwc = Float32Array.from({ length: size * size * 3 }, () => r());
    const nchw = new Float32Array(nhwc.length);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++) nchw[c * size * size + y * size + x] = nhwc[(y * size + x) * 3 + c]!;
    const session = await ort.InferenceSession.create(file);
    const got = (await session.run({ images: new ort.Tensor('float32', nchw, [1, 3, size, size]) })).output0!;
    await session.release();
    const x = tf.tensor4d(nhwc, [1, size, size, 3]);
    const y = predict(model, x);
    const ours = (await y.data()) as Float32Array;
    x.dispose();
    const shape = y.shape;
    y.dispose();
    const data = got.data as Float32Array;
    let maxRel = 0;
    for (let i = 0; i < ours.length; i++)
      maxRel = Math.max(maxRel, Math.abs(data[i]! - ours[i]!) / Math.max(1, Math.abs(ours[i]!)));
    return { dims: got.dims, shape, onnx, maxRel };
  } finally {
    model.dispose();
  }
}

describe('ONNX graph of every block kind', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('Focus, BottleneckCSP, SPP, repeated Conv, Bottleneck: same outputs as FreezeLab', async () => {
    const r = await compare(LEGACY_YAML, 'legacy.yaml', 64, 5);
    expect(r.dims).toEqual(r.shape);
    expect(r.dims).toEqual([1, 3 * (16 * 16 + 8 * 8), 8]); // strides 4 and 8
    expect(r.maxRel).toBeLessThan(1e-4);
  });

  it('P6 (four Detect levels, stride 64): same outputs as FreezeLab', async () => {
    const r = await compare(YOLOV5N6_YAML, 'yolov5n6.yaml', 128, 9);
    expect(r.dims).toEqual([1, 3 * (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2), 85]);
    expect(r.onnx.metadata.stride).toBe('64');
    expect(r.maxRel).toBeLessThan(1e-4);
  });
});

describe('names metadata', () => {
  it("is Python's str() of the names dict and reads back", () => {
    const names = ['person', "it's", 'say "hi"', 'back\\slash', 'tab\there'];
    const text = namesMetadata(names);
    expect(text).toBe(`{0: 'person', 1: "it's", 2: 'say "hi"', 3: 'back\\\\slash', 4: 'tab\\there'}`);
    expect(parseNamesMetadata(text)).toEqual(names);
  });
});

describe('model.export of model YAML files', () => {
  let service: Service;
  let dir: string;
  beforeAll(() => {
    service = testService('cli');
    dir = tempDir('freezelab-onnx-yaml-');
  });
  afterAll(async () => {
    await service.close();
  });

  it('refuses an image size that is not a multiple of the largest stride, naming it', async () => {
    const yaml = path.join(dir, 'yolov5n6.yaml');
    writeFileSync(yaml, YOLOV5N6_YAML);
    const r = await service.call('model.export', { weights: yaml, out: dir, imgSize: 96 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid-input');
      expect(r.error.message).toMatch(/96 is not a multiple of yolov5n6\.yaml's largest stride \(64\)/);
      expect(r.error.hint).toMatch(/128/);
    }
  });

  it('names a module it cannot build', async () => {
    const yaml = path.join(dir, 'odd.yaml');
    writeFileSync(yaml, LEGACY_YAML.replace('[-1, 1, Bottleneck, [256, False]]', '[-1, 1, nn.Identity, []]'));
    const r = await service.call('model.export', { weights: yaml, out: dir });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('bad-file');
      expect(r.error.message).toContain('nn.Identity');
      expect(r.error.message).toContain('odd.yaml');
    }
  });
});
