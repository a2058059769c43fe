/**
 * The ONNX export (model.export, `freezelab export --format onnx`): the file loads and runs in
 * onnxruntime-node, has YOLOv5's export output [1, N, 5 + nc] and names metadata, and computes
 * what FreezeLab's own inference computes on the bus image (and what PyTorch computed, per the
 * bus320 reference arrays).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNamesMetadata } from '../../../src/main/engine/export/onnx.js';
import { predict } from '../../../src/main/engine/infer/detect.js';
import { loadImageRgb } from '../../../src/main/engine/infer/image.js';
import { letterbox, toFloatInput } from '../../../src/main/engine/infer/letterbox.js';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../../../src/main/engine/model/source.js';
import type { YoloModel } from '../../../src/main/engine/model/forward.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { saveCheckpoint } from '../../../src/main/engine/weights/checkpoint.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import { addArtifact, createRun, openStore, recordEpoch, setRunStatus } from '../../../src/main/store/index.js';
import { readNpy } from '../../helpers/npy.js';
import { tempDir, testService } from '../../helpers/service.js';
import { describeShared, shared } from '../../helpers/shared.js';
import { epoch, newRun } from '../store/fixtures.js';

const { onnx } = onnxProto;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = path.join(root, 'bin', 'freezelab.js');
const exec = promisify(execFile);

/** metadata_props of an ONNX file, read back with the same protobuf definitions. */
function metadataOf(file: string): Record<string, string> {
  const model = onnx.ModelProto.decode(readFileSync(file));
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}

function opsetOf(file: string): number {
  return Number(onnx.ModelProto.decode(readFileSync(file)).opsetImport[0]?.version);
}

/** Max abs difference of [.., no] rows over columns [lo, hi), and the largest |value| there. */
function partDiff(a: ArrayLike<number>, b: ArrayLike<number>, no: number, lo: number, hi: number) {
  let max = 0;
  let rel = 0;
  let mag = 0;
  for (let i = 0; i < a.length; i++) {
    const c = i % no;
    if (c < lo || c >= hi) continue;
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    rel = Math.max(rel, d / Math.max(Math.abs(b[i]!), 1));
    mag = Math.max(mag, Math.abs(b[i]!));
  }
  return { max, rel, mag };
}

/** NHWC -> NCHW of one image. */
function toNchw(nhwc: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(nhwc.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) out[c * h * w + y * w + x] = nhwc[(y * w + x) * 3 + c]!;
  return out;
}

async function runOnnx(file: string, input: Float32Array, size: number): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(file);
  try {
    expect(session.inputNames).toEqual(['images']);
    expect(session.outputNames).toEqual(['output0']);
    const out = await session.run({ images: new ort.Tensor('float32', input, [1, 3, size, size]) });
    return out.output0!;
  } finally {
    await session.release();
  }
}

describe('model.export: inputs', () => {
  let service: Service;
  beforeAll(() => {
    service = testService('cli');
  });
  afterAll(async () => {
    await service.close();
  });

  it('refuses an opset below 12 (and above what it writes), naming the field', async () => {
    const out = tempDir('freezelab-onnx-');
    for (const opset of [11, 7, 18]) {
      const r = await service.call('model.export', { weights: 'n', out, opset });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('invalid-input');
      expect(r.error.issues?.some((i) => i.path === 'opset')).toBe(true);
    }
    const both = await service.call('model.export', { weights: 'n', runId: 1, out });
    expect(both.ok).toBe(false);
    const neither = await service.call('model.export', { out });
    expect(neither.ok).toBe(false);
    expect(existsSync(path.join(out, 'yolov5n.onnx'))).toBe(false);
  });

  it('writes an untrained architecture with a warning, and never overwrites without force', async () => {
    const out = tempDir('freezelab-onnx-');
    const first = await service.call('model.export', { weights: 'n', out, imgSize: 64 });
    if (!first.ok) throw new Error(first.error.message);
    expect(first.value.files).toEqual([path.join(out, 'yolov5n.onnx')]);
    expect(first.value.warning).toMatch(/no trained weights/);
    expect(first.value.outputShape).toEqual([1, 3 * (8 * 8 + 4 * 4 + 2 * 2), 85]);
    const before = readFileSync(first.value.files[0]!);
    const again = await service.call('model.export', { weights: 'n', out, imgSize: 96 });
    expect(again.ok).toBe(false);
    if (!again.ok) {
      expect(again.error.code).toBe('conflict');
      expect(again.error.message).toContain(path.join(out, 'yolov5n.onnx'));
      expect(again.error.hint).toMatch(/--force/);
    }
    expect(readFileSync(first.value.files[0]!).equals(before)).toBe(true);
    const forced = await service.call('model.export', { weights: 'n', out, imgSize: 96, force: true });
    if (!forced.ok) throw new Error(forced.error.message);
    expect(forced.value.outputShape).toEqual([1, 3 * (12 * 12 + 6 * 6 + 3 * 3), 85]);
    expect(metadataOf(forced.value.files[0]!).imgsz).toBe('[96, 96]');
  });

  it('writes opset 17 too, which onnxruntime-node runs', async () => {
    const out = tempDir('freezelab-onnx-');
    const r = await service.call('model.export', { weights: 'n', out, imgSize: 64, opset: 17 });
    if (!r.ok) throw new Error(r.error.message);
    expect(opsetOf(r.value.files[0]!)).toBe(17);
    const y = await runOnnx(r.value.files[0]!, new Float32Array(3 * 64 * 64).fill(0.25), 64);
    expect(y.dims).toEqual([1, 252, 85]);
    expect([...(y.data as Float32Array)].every(Number.isFinite)).toBe(true);
  });

  it('names a run without checkpoints and a run that does not exist', async () => {
    const out = tempDir('freezelab-onnx-');
    const missing = await service.call('model.export', { runId: 999, out });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.code).toBe('not-found');
  });
});

describe('model.export by run id', () => {
  let service: Service;
  let dataDir: string;
  let runId: number;
  const names = ["cat's toy", 'dog'];

  beforeAll(async () => {
    await initBackend();
    dataDir = tempDir('freezelab-onnx-run-');
    // A run whose best checkpoint is a FreezeLab checkpoint of a 2-class yolov5n.
    const src = await resolveModelSource('n', { nc: 2, names });
    const { model } = instantiateModel(src, { seed: 3 });
    const best = path.join(dataDir, 'best.safetensors');
    try {
      await saveCheckpoint(best, model.exportTensors(), {
        yaml: modelYamlToObject(src.yaml, 2),
        names,
        epoch: 1,
      });
    } finally {
      model.dispose();
    }
    const db = openStore(path.join(dataDir, 'freezelab.db'));
    try {
      const run = createRun(db, newRun({ name: 'two classes', epochs: 2 }));
      setRunStatus(db, run.id, 'running', { pid: process.pid });
      recordEpoch(db, run.id, epoch(0));
      addArtifact(db, run.id, { kind: 'best', path: best, epoch: 0 });
      setRunStatus(db, run.id, 'completed');
      runId = run.id;
      // A run with epochs but no checkpoint file recorded.
      const bare = createRun(db, newRun({ name: 'no checkpoint', epochs: 1 }));
      expect(bare.id).toBe(runId + 1);
    } finally {
      db.close();
    }
    service = createService({
      host: 'web',
      runJobs: false,
      paths: resolveDataPaths({ dataDir }, {}),
      loadBackend: () => initBackend(),
    });
  });
  afterAll(async () => {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("exports the run's best checkpoint with its class names", async () => {
    const out = tempDir('freezelab-onnx-');
    const r = await service.call('model.export', { runId, out, imgSize: 128 });
    if (!r.ok) throw new Error(`${r.error.message} ${r.error.hint ?? ''}`);
    const file = path.join(out, `run-${runId}-best.onnx`);
    expect(r.value).toMatchObject({ files: [file], runId, checkpoint: 'best', opset: 12, names });
    expect(r.value.warning).toBeUndefined();
    const meta = metadataOf(file);
    expect(meta.names).toBe(`{0: "cat's toy", 1: 'dog'}`);
    expect(parseNamesMetadata(meta.names!)).toEqual(names);
    expect(meta).toMatchObject({ stride: '32', imgsz: '[128, 128]', freezelab_run: String(runId) });
    expect(meta.freezelab_version).toMatch(/^\d+\.\d+\.\d+/);
    const input = new Float32Array(3 * 128 * 128).fill(0.5);
    const y = await runOnnx(file, input, 128);
    expect(y.dims).toEqual([1, 3 * (16 * 16 + 8 * 8 + 4 * 4), 7]);
    expect(r.value.outputShape).toEqual(y.dims);
    // Without a folder: the data folder's exports folder, where served mode downloads from.
    const page = await service.call('model.export', { runId, imgSize: 64 });
    if (!page.ok) throw new Error(page.error.message);
    expect(page.value.files).toEqual([path.join(dataDir, 'exports', `run-${runId}-best.onnx`)]);
    expect(existsSync(page.value.files[0]!)).toBe(true);
  });

  it('refuses a run without a checkpoint', async () => {
    const r = await service.call('model.export', { runId: runId + 1, out: tempDir('freezelab-onnx-') });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('not-found');
      expect(r.error.message).toContain(`Run ${runId + 1} has no checkpoint`);
    }
  });
});

describeShared('ONNX export of yolov5n.pt against FreezeLab and onnxruntime-node', () => {
  const weights = shared('weights', 'yolov5n.pt');
  let service: Service;
  let model: YoloModel;
  let classNames: readonly string[];
  beforeAll(async () => {
    await initBackend();
    service = testService('cli');
    const src = await resolveModelSource(weights);
    classNames = src.names;
    model = instantiateModel(src).model;
  });
  afterAll(async () => {
    model.dispose();
    await service.close();
  });

  it('matches FreezeLab on the letterboxed bus image at 640: scores, xy and box sigmoids within 1e-3 abs, wh 1e-3 relative', async () => {
    const out = tempDir('freezelab-onnx-');
    const r = await service.call('model.export', { weights, out });
    if (!r.ok) throw new Error(r.error.message);
    const file = path.join(out, 'yolov5n.onnx');
    expect(r.value.files).toEqual([file]);
    expect(r.value.warning).toBeUndefined();
    expect(opsetOf(file)).toBeGreaterThanOrEqual(12);
    const meta = metadataOf(file);
    expect(parseNamesMetadata(meta.names!)).toEqual(classNames);
    expect(meta.names!.startsWith("{0: 'person', 1: 'bicycle', 2: 'car'")).toBe(true);
    expect(meta.stride).toBe('32');

    const size = 640;
    const lb = letterbox(await loadImageRgb(shared('reference', 'images', 'bus.jpg')), {
      newShape: size,
      auto: false,
    });
    const nhwc = toFloatInput(lb.image);
    const y = await runOnnx(file, toNchw(nhwc, size, size), size);
    expect(y.dims).toEqual([1, 25200, 85]);
    const x = tf.tensor4d(nhwc, [1, size, size, 3]);
    const decoded = predict(model, x);
    const ours = (await decoded.data()) as Float32Array;
    x.dispose();
    decoded.dispose();
    const got = y.data as Float32Array;
    const xy = partDiff(got, ours, 85, 0, 2);
    const wh = partDiff(got, ours, 85, 2, 4);
    const scores = partDiff(got, ours, 85, 4, 85);
    console.log(
      `ONNX vs FreezeLab, bus 640: xy max ${xy.max.toExponential(2)} px (values up to ${xy.mag.toFixed(0)}), ` +
        `wh max ${wh.max.toExponential(2)} px (up to ${wh.mag.toFixed(0)}; relative ${wh.rel.toExponential(2)}), ` +
        `scores max ${scores.max.toExponential(2)}`,
    );
    // The boxes back in Detect's sigmoid units (xy: sig = (xy / stride - grid) / 2; wh: sig =
    // sqrt(wh / anchor) / 2), where the 1e-3 of the raw maps applies on the same scale as the scores.
    const sig = (rows: Float32Array): Float32Array => {
      const det = model.graph.modules.at(-1)!.block;
      if (det.kind !== 'Detect') throw new Error('last module is not Detect');
      const anchors = model.buffers.get(det.anchorsName)!.variable.dataSync();
      const outSig = new Float32Array((rows.length / 85) * 4);
      let row = 0;
      det.strides.forEach((stride, l) => {
        const n = size / stride;
        for (let a = 0; a < det.na; a++)
          for (let gy = 0; gy < n; gy++)
            for (let gx = 0; gx < n; gx++, row++) {
              const r = rows.subarray(row * 85, row * 85 + 4);
              const [aw, ah] = [anchors[(l * det.na + a) * 2]! * stride, anchors[(l * det.na + a) * 2 + 1]! * stride];
              outSig.set(
                [
                  (r[0]! / stride - gx + 0.5) / 2,
                  (r[1]! / stride - gy + 0.5) / 2,
                  Math.sqrt(r[2]! / aw) / 2,
                  Math.sqrt(r[3]! / ah) / 2,
                ],
                row * 4,
              );
            }
      });
      return outSig;
    };
    const [sigGot, sigOurs] = [sig(got), sig(ours)];
    const boxSig = partDiff(sigGot, sigOurs, 4, 0, 4);
    console.log(
      `ONNX vs FreezeLab, bus 640, boxes in sigmoid units: xy max ${partDiff(sigGot, sigOurs, 4, 0, 2).max.toExponential(2)}, ` +
        `wh max ${partDiff(sigGot, sigOurs, 4, 2, 4).max.toExponential(2)}`,
    );
    expect(boxSig.max).toBeLessThanOrEqual(1e-3);
    expect(scores.max).toBeLessThanOrEqual(1e-3);
    expect(xy.max).toBeLessThanOrEqual(1e-3);
    // Box sizes reach hundreds of pixels: float32 holds them to ~3e-5 px there, and the two
    // engines' conv sums differ by a few ulps, which (sig*2)^2 * anchor multiplies (see the report).
    expect(wh.rel).toBeLessThanOrEqual(1e-3);
    expect(wh.max).toBeLessThanOrEqual(1e-2);
  });

  it("matches PyTorch's decoded bus320 reference within its stated tolerances", async () => {
    const out = tempDir('freezelab-onnx-');
    const r = await service.call('model.export', { weights, out, imgSize: 320, opset: 13 });
    if (!r.ok) throw new Error(r.error.message);
    expect(opsetOf(r.value.files[0]!)).toBe(13);
    const input = readNpy(shared('reference', 'bus320-input-nchw.npy'));
    const ref = readNpy(shared('reference', 'bus320-decoded.npy'));
    const y = await runOnnx(r.value.files[0]!, input.data, 320);
    expect(y.dims).toEqual(ref.shape);
    const got = y.data as Float32Array;
    expect(partDiff(got, ref.data, 85, 0, 4).max).toBeLessThan(1e-2);
    expect(partDiff(got, ref.data, 85, 4, 85).max).toBeLessThan(1e-4);
  });
});

describeShared('freezelab export --format onnx (CLI, dist/main)', () => {
  it('exports yolov5n.pt, which onnxruntime-node runs like PyTorch on bus320', async () => {
    if (!existsSync(path.join(root, 'dist', 'main', 'cli', 'main.js'))) {
      throw new Error('dist/main is not built: run `npm run build:main` first');
    }
    const home = tempDir('freezelab-onnx-home-');
    const out = path.join(tempDir('freezelab-onnx-'), 'export');
    const args = ['export', '--weights', shared('weights', 'yolov5n.pt'), '--format', 'onnx', '--out', out];
    const first = await exec(process.execPath, [BIN, ...args, '--img', '320', '--home', home], { cwd: root });
    const file = path.join(out, 'yolov5n.onnx');
    expect(first.stdout).toContain(`wrote ${file}`);
    expect(first.stdout).toContain('output0 [1, 6300, 85]');
    const input = readNpy(shared('reference', 'bus320-input-nchw.npy'));
    const ref = readNpy(shared('reference', 'bus320-decoded.npy'));
    const y = await runOnnx(file, input.data, 320);
    const got = y.data as Float32Array;
    expect(partDiff(got, ref.data, 85, 0, 4).max).toBeLessThan(1e-2);
    expect(partDiff(got, ref.data, 85, 4, 85).max).toBeLessThan(1e-4);

    // The same export again is refused; --opset 11 is a usage error; --force replaces.
    const again = await exec(process.execPath, [BIN, ...args, '--img', '320', '--home', home], { cwd: root }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(again?.code).toBe(1);
    expect(again?.stderr).toMatch(/already exists: an export never overwrites files/);
    const old = await exec(process.execPath, [BIN, ...args, '--opset', '11', '--force', '--home', home], {
      cwd: root,
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(old?.code).not.toBe(0);
    expect(old?.stderr).toMatch(/opset 11 is not supported/);
    const forced = await exec(process.execPath, [BIN, ...args, '--img', '64', '--force', '--json', '--home', home], {
      cwd: root,
    });
    const json = JSON.parse(forced.stdout) as { files: string[]; outputShape: number[] };
    expect(json.files).toEqual([file]);
    expect(json.outputShape).toEqual([1, 252, 85]);
  }, 120_000);
});
