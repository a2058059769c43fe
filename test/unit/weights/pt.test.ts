import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { numel } from '../../../src/main/engine/host-tensor.js';
import { loadWeightsFile, WeightsFormatError } from '../../../src/main/engine/weights/index.js';
import { readYoloCheckpoint, type YoloCheckpoint } from '../../../src/main/engine/weights/pt.js';
import { describeShared, shared } from '../../helpers/shared.js';
import { PickleBuilder, torchZip } from './pickle-builder.js';

interface ManifestTensor {
  name: string;
  dtype: string;
  shape: number[];
  offset: number;
  file: string;
}
interface Manifest {
  checkpoint_keys: string[];
  meta: { epoch: number; date: string };
  model_class: string;
  yaml: Record<string, unknown> & { anchors: number[][]; nc: number };
  names: string[];
  tensors: ManifestTensor[];
}

/** binary16 by arithmetic, independent of the reader's bit-level table. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'freezelab-pt-'));

describeShared('yolov5n.pt against its manifest', () => {
  const ptFile = shared('weights', 'yolov5n.pt');
  let bytes: Uint8Array;
  let manifest: Manifest;
  let ckpt: YoloCheckpoint;

  beforeAll(() => {
    bytes = readFileSync(ptFile);
    manifest = JSON.parse(readFileSync(shared('weights', 'yolov5n.pt.manifest.json'), 'utf8')) as Manifest;
    const t0 = performance.now();
    ckpt = readYoloCheckpoint(bytes, ptFile);
    const cold = performance.now() - t0;
    const t1 = performance.now();
    readYoloCheckpoint(bytes, ptFile);
    console.log(
      `readYoloCheckpoint(yolov5n.pt): ${cold.toFixed(1)} ms cold, ${(performance.now() - t1).toFixed(1)} ms warm`,
    );
  });

  it('has every tensor name of the manifest, in state_dict order, with its dtype and shape', () => {
    expect([...ckpt.tensors.keys()]).toEqual(manifest.tensors.map((t) => t.name));
    for (const m of manifest.tensors) {
      const t = ckpt.tensors.get(m.name)!;
      expect(t.shape, m.name).toEqual(m.shape);
      if (m.dtype === 'float16') {
        expect(t.dtype, m.name).toBe('float32');
        expect(t.sourceDType, m.name).toBe('float16');
      } else {
        expect(t.dtype, m.name).toBe(m.dtype);
      }
      expect(t.data.length, m.name).toBe(numel(m.shape));
    }
  });

  it('counts the float parameters the manifest lists (SOURCE.md: 1,872,157)', () => {
    const floats = manifest.tensors.filter((t) => t.dtype === 'float16' && !t.name.endsWith('.anchors'));
    const expected = floats.filter((t) => !/running_(mean|var)$/.test(t.name)).reduce((a, t) => a + numel(t.shape), 0);
    let params = 0;
    for (const [name, t] of ckpt.tensors) {
      if (t.dtype === 'float32' && !name.endsWith('.anchors') && !/running_(mean|var)$/.test(name))
        params += t.data.length;
    }
    expect(params).toBe(expected);
    expect(params).toBe(1_872_157);
  });

  it('decodes every value like an independent fp16/int64 reading of the zip members', () => {
    const members = unzipSync(bytes);
    let mismatches = 0;
    for (const m of manifest.tensors) {
      const raw = members[m.file]!;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const t = ckpt.tensors.get(m.name)!;
      for (let i = 0; i < t.data.length; i++) {
        const want =
          m.dtype === 'int64'
            ? view.getBigInt64((m.offset + i) * 8, true)
            : halfValue(view.getUint16((m.offset + i) * 2, true));
        if (!Object.is(t.data[i], want)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('has anchors in grid units: pixel anchors of the yaml divided by strides 8, 16, 32', () => {
    const a = ckpt.tensors.get('model.24.anchors')!;
    expect(a.shape).toEqual([3, 3, 2]);
    const strides = [8, 16, 32];
    const want = manifest.yaml.anchors.flatMap((level, i) => level.map((v) => v / strides[i]!));
    expect(Array.from(a.data as Float32Array)).toEqual(want);
    // SOURCE.md states P3 explicitly
    expect(Array.from((a.data as Float32Array).subarray(0, 6))).toEqual([1.25, 1.625, 2, 3.75, 4.125, 2.875]);
    expect(ckpt.stride).toEqual(strides);
  });

  it('reads yaml, names, nc, epoch and meta', () => {
    expect(ckpt.yaml).toEqual(manifest.yaml);
    expect(ckpt.names).toEqual(manifest.names);
    expect(ckpt.nc).toBe(80);
    expect(ckpt.epoch).toBe(manifest.meta.epoch);
    expect(ckpt.source).toBe('model'); // ema is None in this stripped checkpoint
    expect(ckpt.meta.modelClass).toBe(manifest.model_class);
    expect(ckpt.meta.date).toBe(manifest.meta.date);
  });

  it('rejects the file cut in half with a clear zip error', async () => {
    const file = path.join(tmp, 'half.pt');
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(loadWeightsFile(file)).rejects.toThrow(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid PyTorch checkpoint \\(zip.*re-download or re-export it$`,
      ),
    );
  });

  it('prefers the EMA model of a training checkpoint', () => {
    // rewrite data.pkl's top dict so that `ema` holds the model and `model` is None
    const members = unzipSync(bytes);
    const pkl = members['archive/data.pkl']!;
    const text = new TextDecoder('latin1').decode(pkl);
    const keyAt = (k: string): number => text.indexOf(`X${String.fromCharCode(k.length, 0, 0, 0)}${k}`);
    const model = keyAt('model');
    const ema = keyAt('ema');
    expect(model).toBeGreaterThan(0);
    expect(ema).toBeGreaterThan(model);
    // swap the two key strings ('model' -> 'ema__' is not valid, so rebuild both BINUNICODE ops)
    const enc = (s: string): number[] => [0x58, s.length, 0, 0, 0, ...new TextEncoder().encode(s)];
    const out = [
      ...pkl.subarray(0, model),
      ...enc('ema'),
      ...pkl.subarray(model + 10, ema),
      ...enc('model'),
      ...pkl.subarray(ema + 8),
    ];
    members['archive/data.pkl'] = Uint8Array.from(out);
    const c = readYoloCheckpoint(zipSync(members, { level: 0 }), 'ema.pt');
    expect(c.source).toBe('ema');
    expect(c.tensors.size).toBe(ckpt.tensors.size);
  });
});

describe('zips that hold no YOLOv5 model', () => {
  it('says so for a PyTorch zip whose pickle is a plain dict', () => {
    const pkl = new PickleBuilder().proto(2).emptyDict().mark().str('epoch').int(3).setitems().stop().bytes();
    expect(() => readYoloCheckpoint(torchZip(pkl), 'dict.pt')).toThrow(
      /^dict\.pt: is a PyTorch checkpoint but holds no YOLOv5 model \(keys: epoch\)/,
    );
  });

  it('says so for a zip without data.pkl', () => {
    const z = zipSync({ 'readme.txt': new TextEncoder().encode('hello') });
    expect(() => readYoloCheckpoint(z, 'other.zip')).toThrow(WeightsFormatError);
    expect(() => readYoloCheckpoint(z, 'other.zip')).toThrow(/not a PyTorch checkpoint \(no data\.pkl/);
  });
});
