import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostTensor, NamedTensors } from '../../../src/main/engine/host-tensor.js';
import {
  decodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointMeta,
} from '../../../src/main/engine/weights/checkpoint.js';
import { WeightsFormatError } from '../../../src/main/engine/weights/errors.js';
import { floatToHalfBits } from '../../../src/main/engine/weights/fp16.js';
import { parseSafetensors, serializeSafetensors } from '../../../src/main/engine/weights/safetensors.js';
import { mulberry32 as rng } from '../../../src/shared/random.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'freezelab-st-'));

function sampleTensors(): NamedTensors {
  const r = rng(42);
  const w = new Float32Array(2 * 3 * 3 * 3);
  const bits = new Uint32Array(w.buffer);
  for (let i = 0; i < bits.length; i++)
    bits[i] = (Math.floor(r() * 2 ** 32) & ~0x7f800000) | (Math.floor(r() * 254) << 23);
  w[0] = -0;
  w[1] = 1e-45; // smallest subnormal
  w[2] = -3.4e-39; // subnormal
  w[3] = Infinity;
  w[4] = -Infinity;
  const counter: HostTensor = { dtype: 'int64', shape: [], data: BigInt64Array.of(-(2n ** 63n)) };
  return new Map<string, HostTensor>([
    ['model.0.conv.weight', { dtype: 'float32', shape: [2, 3, 3, 3], data: w }],
    ['model.0.bn.num_batches_tracked', counter],
    ['model.0.bn.bias', { dtype: 'float32', shape: [3], data: Float32Array.of(0.5, -2, 7) }],
    ['idx', { dtype: 'int32', shape: [2, 2], data: Int32Array.of(-1, 2 ** 31 - 1, -(2 ** 31), 0) }],
    ['big', { dtype: 'int64', shape: [2], data: BigInt64Array.of(2n ** 63n - 1n, 12345678901234n) }],
    ['empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

const bytesOf = (t: HostTensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

const meta: CheckpointMeta = {
  yaml: {
    nc: 2,
    depth_multiple: 0.33,
    width_multiple: 0.25,
    anchors: [[10, 13, 16, 30, 33, 23]],
    backbone: [],
    head: [],
  },
  names: ['cat', 'dög'],
  epoch: 4,
  freeze: '10',
  hyp: { lr0: 0.01, momentum: 0.937 },
  extra: { map50: 0.41, dataset: { train: 'x/images' } },
};

describe('safetensors layout', () => {
  it('aligns the data start to 8 bytes and each tensor to its element size, with no holes', () => {
    const bytes = serializeSafetensors(sampleTensors(), { a: 'b' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
      string,
      { dtype: string; data_offsets: [number, number] }
    >;
    const size: Record<string, number> = { F32: 4, I32: 4, I64: 8 };
    const spans = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([, v]) => {
        expect(v.data_offsets[0] % size[v.dtype]!).toBe(0);
        return v.data_offsets;
      })
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [b, e] of spans) {
      expect(b).toBe(at);
      at = e;
    }
    expect(8 + n + at).toBe(bytes.length);
  });
});

describe('FreezeLab checkpoint round trip', () => {
  it('is bit-exact for float32 (-0, subnormals, inf), int32 and int64, and keeps order and metadata', async () => {
    const tensors = sampleTensors();
    const file = path.join(tmp, 'round.safetensors');
    await saveCheckpoint(file, tensors, meta);
    const back = await loadCheckpoint(file);
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const u = back.tensors.get(name)!;
      expect(u.dtype, name).toBe(t.dtype);
      expect(u.shape, name).toEqual(t.shape);
      expect(bytesOf(u), name).toEqual(bytesOf(t));
    }
    expect(back.meta).toEqual(meta);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('overwrites an existing checkpoint in place of the old one', async () => {
    const file = path.join(tmp, 'over.safetensors');
    await saveCheckpoint(file, sampleTensors(), meta);
    await saveCheckpoint(file, sampleTensors(), { ...meta, epoch: 9 });
    expect((await loadCheckpoint(file)).meta.epoch).toBe(9);
  });

  it('a failed save leaves the target untouched and no temporary file behind', async () => {
    const dir = path.join(tmp, 'failing');
    mkdirSync(dir);
    const target = path.join(dir, 'ckpt.safetensors');
    mkdirSync(target); // renaming a file onto a folder fails after the data is written
    await expect(saveCheckpoint(target, sampleTensors(), meta)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
    const bad = new Map<string, HostTensor>([['x', { dtype: 'float32', shape: [3], data: new Float32Array(2) }]]);
    await expect(saveCheckpoint(path.join(dir, 'b.safetensors'), bad, meta)).rejects.toThrow(
      /shape \[3\] needs 3 values/,
    );
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
  });

  it('reads F16 tensors written by other tools, widened with sourceDType', () => {
    const halfs = Uint16Array.from([1, -2.5, 65504, 2 ** -24], floatToHalfBits);
    const json = JSON.stringify({
      h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
      __metadata__: {
        'freezelab.format': '1',
        'freezelab.yaml': '{}',
        'freezelab.names': '[]',
        'freezelab.epoch': 'null',
      },
    });
    const head = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + head.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
    bytes.set(head, 8);
    bytes.set(new Uint8Array(halfs.buffer), 8 + head.length);
    const t = decodeCheckpoint(bytes, 'h.safetensors').tensors.get('h')!;
    expect(t.sourceDType).toBe('float16');
    expect(Array.from(t.data as Float32Array)).toEqual([1, -2.5, 65504, 2 ** -24]);
  });
});

describe('damaged safetensors', () => {
  const good = serializeSafetensors(sampleTensors(), {});
  const headerLen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (h: unknown, dataBytes: number): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const b = new Uint8Array(8 + json.length + dataBytes);
    new DataView(b.buffer).setBigUint64(0, BigInt(json.length), true);
    b.set(json, 8);
    return b;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    [
      'header length beyond the file',
      good.subarray(0, 8 + headerLen - 5),
      /header length \d+ goes beyond the end of the file/,
    ],
    ['truncated data', good.subarray(0, good.length - 4), /lie outside the \d+-byte data buffer/],
    [
      'offsets outside the buffer',
      withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 8),
      /data_offsets \[4, 12\] lie outside/,
    ],
    ['unknown dtype', withHeader({ a: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, 8), /unknown dtype "Q7"/],
    [
      'shape/byte-size mismatch',
      withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8),
      /shape \[3\] of F32 \(12 bytes\) but 8 bytes/,
    ],
    [
      'bad JSON',
      (() => {
        const b = good.slice();
        b[9] = 0x21;
        return b;
      })(),
      /JSON header does not parse/,
    ],
    ['tiny file', Uint8Array.of(1, 2, 3), /only 3 bytes long/],
  ];
  it.each(cases)('%s', (_name, bytes, message) => {
    let err: unknown;
    try {
      parseSafetensors(bytes, 'bad.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightsFormatError);
    expect((err as Error).message).toMatch(/^bad\.safetensors: not a valid safetensors checkpoint: /);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses a safetensors file that is not a FreezeLab checkpoint, or from a newer format', () => {
    const plain = serializeSafetensors(sampleTensors(), { format: 'pt' });
    expect(() => decodeCheckpoint(plain, 'hf.safetensors')).toThrow(
      /not a FreezeLab checkpoint \(no freezelab\.format/,
    );
    const newer = serializeSafetensors(sampleTensors(), { 'freezelab.format': '2' });
    expect(() => decodeCheckpoint(newer, 'new.safetensors')).toThrow(/format 2.*update FreezeLab/);
  });

  it('rejects a checkpoint cut short on disk', async () => {
    const file = path.join(tmp, 'cut.safetensors');
    await saveCheckpoint(file, sampleTensors(), meta);
    const b = readFileSync(file);
    writeFileSync(file, b.subarray(0, b.length - 1));
    await expect(loadCheckpoint(file)).rejects.toThrow(WeightsFormatError);
  });
});
