/**
 * Crafted weights files that once exhausted memory or the stack (issue 14): each must now fail
 * with a WeightsFormatError that names the file and the limit.
 */
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { WeightsFormatError } from '../../../src/main/engine/weights/errors.js';
import { WEIGHTS_LIMITS } from '../../../src/main/engine/weights/limits.js';
import { PyGlobal, unpickle, type UnpicklerHooks } from '../../../src/main/engine/weights/pickle.js';
import { readYoloCheckpoint } from '../../../src/main/engine/weights/pt.js';
import { parseSafetensors } from '../../../src/main/engine/weights/safetensors.js';
import { readTorchCheckpoint } from '../../../src/main/engine/weights/torch-pickle.js';
import { PickleBuilder, tensorPickle, torchZip } from '../weights/pickle-builder.js';

const hooks: UnpicklerHooks = {
  findGlobal: (m, n) => new PyGlobal(`${m}.${n}`),
  persistentLoad: (pid) => pid,
};
const small = { PICKLE_MAX_MEMO: 100, PICKLE_MAX_OBJECTS: 1000, PICKLE_MAX_DEPTH: 50 };

/**
 * Pickle of a YOLOv5 model object whose `yaml` dict gets `{backbone: <value>, head: []}`; `value`
 * writes the backbone value and may use memo slots from 1 on (slot 0 holds the model).
 */
function modelPickle(value: (p: PickleBuilder) => void, modules: (p: PickleBuilder) => void = () => {}): Uint8Array {
  const p = new PickleBuilder().proto(2);
  p.global('models.yolo', 'DetectionModel').emptyTuple().raw(0x81).raw(0x71, 0); // NEWOBJ, BINPUT 0
  p.emptyDict().mark();
  p.str('_parameters').emptyDict();
  p.str('_modules').emptyDict().mark();
  modules(p);
  p.setitems();
  p.str('yaml').emptyDict().mark().str('backbone');
  value(p);
  p.str('head').raw(0x5d).setitems(); // EMPTY_LIST
  p.setitems().op('b').stop(); // BUILD
  return p.bytes();
}

/** Offsets of every central-directory entry of a zip. */
function centralEntries(zip: Uint8Array): number[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) if (v.getUint32(i, true) === 0x02014b50) out.push(i);
  return out;
}

describe('pickle limits', () => {
  it('refuses a memo larger than PICKLE_MAX_MEMO', () => {
    const p = new PickleBuilder().proto(2).raw(0x4e); // NONE
    for (let i = 0; i < 101; i++) p.raw(0x72, i & 0xff, i >> 8, 0, 0); // LONG_BINPUT i
    const bytes = p.stop().bytes();
    expect(() => unpickle(bytes, hooks, 'memo.pt', 'data.pkl', small)).toThrow(
      /^memo\.pt: refused: pickle data\.pkl memoizes more than 100 values, over the PICKLE_MAX_MEMO limit \(100\)/,
    );
    // the same slot reused is no growth
    const reuse = new PickleBuilder().proto(2).raw(0x4e);
    for (let i = 0; i < 500; i++) reuse.raw(0x71, 7);
    expect(unpickle(reuse.stop().bytes(), hooks, 'ok.pt', 'data.pkl', small)).toBeNull();
  });

  it('refuses more values than PICKLE_MAX_OBJECTS', () => {
    const p = new PickleBuilder().proto(2).raw(0x4e);
    for (let i = 0; i < 1000; i++) p.raw(0x4e, 0x30); // NONE, POP
    expect(() => unpickle(p.stop().bytes(), hooks, 'many.pt', 'data.pkl', small)).toThrow(
      /PICKLE_MAX_OBJECTS limit \(1000\)/,
    );
  });

  it('refuses MARKs nested deeper than PICKLE_MAX_DEPTH', () => {
    const deep = new PickleBuilder().proto(2);
    for (let i = 0; i < 300_000; i++) deep.mark();
    expect(() => unpickle(deep.bytes(), hooks, 'marks.pt')).toThrow(
      new RegExp(`^marks\\.pt: refused: .*PICKLE_MAX_DEPTH limit \\(${WEIGHTS_LIMITS.PICKLE_MAX_DEPTH}\\)`),
    );
  });

  it('refuses values nested hundreds of thousands deep (no stack overflow)', () => {
    const pkl = modelPickle((p) => {
      p.raw(0x4e);
      for (let i = 0; i < 300_000; i++) p.tuple1();
    });
    expect(() => readYoloCheckpoint(torchZip(pkl), 'deep.pt')).toThrow(/^deep\.pt: refused: .*PICKLE_MAX_DEPTH/);
  });

  it('refuses a shared-object DAG that would expand exponentially, without copying it', () => {
    // L0 = (); L(k+1) = (Lk, Lk): 60 levels are 2^60 values once copied, 200 bytes in the file
    const pkl = modelPickle((p) => {
      p.emptyTuple().raw(0x71, 1);
      for (let k = 1; k <= 60; k++) p.raw(0x68, k, 0x68, k, 0x86, 0x71, k + 1); // GET, GET, TUPLE2, PUT
    });
    expect(pkl.length).toBeLessThan(1000);
    expect(() => readYoloCheckpoint(torchZip(pkl), 'dag.pt')).toThrow(/^dag\.pt: refused: .*PICKLE_MAX_EXPANDED/);
  });

  it('refuses a module tree with a cycle', () => {
    const pkl = modelPickle(
      (p) => p.raw(0x5d),
      (p) => p.str('0').raw(0x68, 0), // _modules['0'] = the model itself
    );
    expect(() => readYoloCheckpoint(torchZip(pkl), 'cycle.pt')).toThrow(
      /^cycle\.pt: refused: module 0 contains itself \(a cycle in the module tree\)/,
    );
  });

  it('refuses a tensor view larger than its storage (stride 0 over one element)', () => {
    const pkl = tensorPickle(new PickleBuilder().proto(2), 'FloatStorage', '0', 1, 0, [1_000_000_000], [0])
      .stop()
      .bytes();
    const zip = torchZip(pkl, { '0': new Uint8Array(4) });
    expect(() => readTorchCheckpoint(zip, 'view.pt')).toThrow(WeightsFormatError);
    expect(() => readTorchCheckpoint(zip, 'view.pt')).toThrow(
      /^view\.pt: .*tensor of shape \[1000000000\] \(1000000000 elements\) is larger than its storage 0 \(1 elements\)/,
    );
    // a broadcast view no larger than its storage still reads
    const okPkl = tensorPickle(new PickleBuilder().proto(2), 'FloatStorage', '0', 4, 0, [2, 2], [0, 1]).stop().bytes();
    const t = readTorchCheckpoint(torchZip(okPkl, { '0': new Uint8Array(16) }), 'ok.pt') as { shape: number[] };
    expect(t.shape).toEqual([2, 2]);
  });
});

describe('zip limits', () => {
  const base = (): Uint8Array =>
    torchZip(new PickleBuilder().proto(2).raw(0x4e).stop().bytes(), { '0': new Uint8Array(64) });

  it('refuses a stored member whose declared size differs from its data', () => {
    const z = base();
    const entry = centralEntries(z)[0]!;
    new DataView(z.buffer).setUint32(entry + 24, 0x7fffffff, true); // uncompressed size
    expect(() => readTorchCheckpoint(z, 'big.pt')).toThrow(
      /^big\.pt: .*stored member archive\/data\.pkl declares 2147483647 bytes but holds/,
    );
  });

  it('refuses a member whose compressed data runs past the end of the file', () => {
    const z = base();
    const entries = centralEntries(z);
    const dv = new DataView(z.buffer);
    const last = entries[entries.length - 1]!;
    dv.setUint32(last + 20, 1_000_000, true);
    dv.setUint32(last + 24, 1_000_000, true);
    expect(() => readTorchCheckpoint(z, 'past.pt')).toThrow(
      /^past\.pt: .*declares 1000000 bytes, beyond the end of the file/,
    );
  });

  it('refuses a deflated member declaring more than deflate can produce, or more than the per-member cap', () => {
    const z = zipSync({ 'archive/data.pkl': new PickleBuilder().proto(2).raw(0x4e).stop().bytes() }, { level: 6 });
    const entry = centralEntries(z)[0]!;
    new DataView(z.buffer).setUint32(entry + 24, 0xfffffff0, true);
    expect(() => readTorchCheckpoint(z, 'bomb.pt')).toThrow(/^bomb\.pt: refused: .*ZIP_MAX_DEFLATE_RATIO/);
    // a ratio deflate could reach, but past ZIP_MAX_MEMBER_BYTES: refused before inflating
    const noise = new Uint8Array(2_200_000);
    let x = 1; // xorshift32: incompressible bytes, so the deflated member stays large
    for (let i = 0; i < noise.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      noise[i] = x & 0xff;
    }
    const big = zipSync({ 'archive/data.pkl': noise }, { level: 1 });
    const dv = new DataView(big.buffer);
    const at = centralEntries(big)[0]!;
    expect(dv.getUint16(at + 10, true)).toBe(8); // deflated
    dv.setUint32(at + 24, 0x86000000, true);
    expect(() => readTorchCheckpoint(big, 'member.pt')).toThrow(
      /^member\.pt: refused: member archive\/data\.pkl declares 2248146944 bytes, over the ZIP_MAX_MEMBER_BYTES limit/,
    );
  });

  it('refuses a directory claiming more members than the file can hold', () => {
    const z = base();
    const dv = new DataView(z.buffer);
    let e = z.length - 22;
    while (dv.getUint32(e, true) !== 0x06054b50) e--;
    dv.setUint16(e + 10, 0xffff, true);
    expect(() => readTorchCheckpoint(z, 'count.pt')).toThrow(/^count\.pt: .*claims 65535 members/);
  });
});

describe('safetensors limits', () => {
  const file = (header: object, dataBytes: number): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };

  it('refuses overlapping tensor ranges', () => {
    const bytes = file(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      12,
    );
    expect(() => parseSafetensors(bytes, 'lap.safetensors')).toThrow(
      /^lap\.safetensors: .*tensors a \[0, 8\] and b \[4, 12\] overlap/,
    );
    // an empty tensor inside another one's range does not hide a later overlap
    const hidden = file(
      {
        a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
        e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
        b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      },
      12,
    );
    expect(() => parseSafetensors(hidden, 'hidden.safetensors')).toThrow(/overlap/);
  });

  it('refuses offsets beyond the file and sizes that do not match the shape', () => {
    const past = file({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8);
    expect(() => parseSafetensors(past, 'past.safetensors')).toThrow(
      /^past\.safetensors: .*lie outside the 8-byte data buffer/,
    );
    const huge = file({ a: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 8] } }, 8);
    expect(() => parseSafetensors(huge, 'huge.safetensors')).toThrow(/^huge\.safetensors: .*but 8 bytes of data/);
  });
});
