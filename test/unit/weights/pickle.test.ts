import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { UnsafeCheckpointError, WeightsFormatError } from '../../../src/main/engine/weights/errors.js';
import { PyObject, unpickle } from '../../../src/main/engine/weights/pickle.js';
import { loadWeightsFile } from '../../../src/main/engine/weights/index.js';
import { readTorchCheckpoint, torchGlobal, TorchTensor } from '../../../src/main/engine/weights/torch-pickle.js';
import { PickleBuilder, tensorPickle, torchZip } from './pickle-builder.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'freezelab-pickle-'));
const hooks = {
  findGlobal: (m: string, n: string) => torchGlobal(m, n, 'test.pkl'),
  persistentLoad: () => {
    throw new Error('no storages here');
  },
};

describe('restricted unpickler: hostile pickles', () => {
  it('refuses os.system named by GLOBAL then REDUCE, and runs nothing', async () => {
    const marker = path.join(tmp, 'pwned-by-os-system');
    const pkl = new PickleBuilder()
      .proto(2)
      .global('os', 'system')
      .str(`touch ${marker}`)
      .tuple1()
      .reduce()
      .stop()
      .bytes();
    const file = path.join(tmp, 'evil-os.pt');
    writeFileSync(file, torchZip(pkl));
    const err = await loadWeightsFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeCheckpointError);
    expect((err as Error).message).toContain(
      `${file}: refuses to load: the checkpoint references os.system, which a model checkpoint never needs`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses posix.system (how CPython pickles os.system on Linux)', () => {
    const pkl = new PickleBuilder().proto(2).global('posix', 'system').str('true').tuple1().reduce().stop().bytes();
    expect(() => readTorchCheckpoint(torchZip(pkl), 'x.pt')).toThrow(/references posix\.system/);
  });

  it('refuses builtins.eval named by STACK_GLOBAL (protocol 4)', () => {
    const marker = path.join(tmp, 'pwned-by-eval');
    const pkl = new PickleBuilder()
      .proto(4)
      .raw(0x95, 0, 0, 0, 0, 0, 0, 0, 0) // FRAME with a dummy length
      .stackGlobal('builtins', 'eval')
      .shortStr(`open(${JSON.stringify(marker)}, 'w')`)
      .tuple1()
      .reduce()
      .stop()
      .bytes();
    let err: unknown;
    try {
      readTorchCheckpoint(torchZip(pkl), 'evil-eval.pt');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsafeCheckpointError);
    expect((err as UnsafeCheckpointError).global).toBe('builtins.eval');
    expect((err as Error).message).toMatch(/^evil-eval\.pt: refuses to load: the checkpoint references builtins\.eval/);
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ['subprocess', 'Popen'],
    ['builtins', 'getattr'],
    ['torch', 'load'],
    ['torch.hub', 'load'],
    ['numpy', 'load'],
    ['models.yolo', 'x; import os'],
  ])('refuses %s.%s', (m, n) => {
    expect(() => torchGlobal(m, n, 'f.pt')).toThrow(UnsafeCheckpointError);
  });

  it('tells a YOLOv8 checkpoint apart from a malicious one', () => {
    expect(() => torchGlobal('ultralytics.nn.tasks', 'DetectionModel', 'v8.pt')).toThrow(
      /Ultralytics YOLOv8.*FreezeLab reads YOLOv5/,
    );
  });
});

describe('restricted unpickler: values', () => {
  it('decodes scalars, containers, memo and big integers', () => {
    const p = new PickleBuilder().proto(2).emptyDict().raw(0x71, 0).mark();
    p.str('i').int(-5).str('i2').int(300).str('f').float(0.937).str('t').raw(0x88).str('n').op('N');
    p.str('big')
      .long1(-(2n ** 70n))
      .str('small')
      .long1(1234567n);
    p.str('tup').mark().int(1).int(2).int(3).tuple();
    p.str('set').global('__builtin__', 'set').op(']').int(7).op('a').tuple1().reduce();
    p.str('self').raw(0x68, 0); // BINGET 0: the dict itself
    const v = unpickle(p.setitems().stop().bytes(), hooks, 't.pkl') as Map<string, unknown>;
    expect(v.get('i')).toBe(-5);
    expect(v.get('i2')).toBe(300);
    expect(v.get('f')).toBe(0.937);
    expect(v.get('t')).toBe(true);
    expect(v.get('n')).toBeNull();
    expect(v.get('big')).toBe(-(2n ** 70n));
    expect(v.get('small')).toBe(1234567);
    expect(v.get('tup')).toEqual([1, 2, 3]);
    expect(v.get('set')).toEqual(new Set([7]));
    expect(v.get('self')).toBe(v);
  });

  it('makes allow-listed classes inert objects whose BUILD only stores state', () => {
    const p = new PickleBuilder().proto(2).global('models.common', 'Conv').emptyTuple().op(0x81);
    p.emptyDict().mark().str('training').raw(0x89).setitems().op('b').stop();
    const v = unpickle(p.bytes(), hooks, 't.pkl');
    expect(v).toBeInstanceOf(PyObject);
    expect((v as PyObject).__class__).toBe('models.common.Conv');
    expect((v as PyObject).state).toEqual(new Map([['training', false]]));
  });

  it('decodes numpy scalars pickled with _codecs.encode (protocol 2)', () => {
    const p = new PickleBuilder().proto(2).global('numpy.core.multiarray', 'scalar');
    p.global('numpy', 'dtype').str('f8').raw(0x89).raw(0x88).op(0x87).reduce();
    p.mark().int(3).str('<').op('N').op('N').op('N').int(-1).int(-1).int(0).tuple().op('b');
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setFloat64(0, 0.3487, true);
    p.global('_codecs', 'encode')
      .str(String.fromCharCode(...raw))
      .str('latin1')
      .op(0x86)
      .reduce();
    p.op(0x86).reduce().stop();
    expect(unpickle(p.bytes(), hooks, 't.pkl')).toBe(0.3487);
  });

  it('reports truncation, stack underflow and unknown opcodes with the file name', () => {
    const trunc = new PickleBuilder().proto(2).str('abcdef').bytes().subarray(0, 6);
    expect(() => unpickle(trunc, hooks, 'cut.pkl')).toThrow(
      /^cut\.pkl: not a valid PyTorch checkpoint \(corrupt pickle .*end of data/,
    );
    expect(() => unpickle(new PickleBuilder().proto(2).reduce().bytes(), hooks, 'u.pkl')).toThrow(/stack underflow/);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0xff), hooks, 'o.pkl')).toThrow(/unknown or unsupported opcode 0xff/);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x68, 9), hooks, 'm.pkl')).toThrow(/memo key 9 is missing/);
  });
});

describe('tensor reconstruction', () => {
  it('gathers a non-contiguous (transposed, offset) view from a float32 storage', () => {
    const storage = new Float32Array(10).map((_, i) => i);
    // a 2x3 view starting at element 1 with strides (1, 2): [[1,3,5],[2,4,6]]
    const pkl = tensorPickle(new PickleBuilder().proto(2), 'FloatStorage', '0', 10, 1, [2, 3], [1, 2]).stop().bytes();
    const t = readTorchCheckpoint(torchZip(pkl, { '0': new Uint8Array(storage.buffer) }, 'weird_stem'), 'v.pt');
    expect(t).toBeInstanceOf(TorchTensor);
    expect((t as TorchTensor).shape).toEqual([2, 3]);
    expect(Array.from((t as TorchTensor).data as Float32Array)).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it('reads int64 storages as BigInt64Array and refuses views past the storage end', () => {
    const s = BigInt64Array.of(-3n, 2n ** 62n);
    const ok = tensorPickle(new PickleBuilder().proto(2), 'LongStorage', '0', 2, 0, [2], [1]).stop().bytes();
    const t = readTorchCheckpoint(torchZip(ok, { '0': new Uint8Array(s.buffer) }), 'l.pt') as TorchTensor;
    expect(t.dtype).toBe('int64');
    expect(Array.from(t.data as BigInt64Array)).toEqual([-3n, 2n ** 62n]);
    const past = tensorPickle(new PickleBuilder().proto(2), 'LongStorage', '0', 2, 1, [2], [1]).stop().bytes();
    expect(() => readTorchCheckpoint(torchZip(past, { '0': new Uint8Array(s.buffer) }), 'l.pt')).toThrow(
      /past storage/,
    );
  });

  it('honours a big-endian byteorder record', () => {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -2.25, false);
    const pkl = tensorPickle(new PickleBuilder().proto(2), 'FloatStorage', '0', 2, 0, [2], [1]).stop().bytes();
    const members = unzipSync(torchZip(pkl, { '0': be }));
    members['archive/byteorder'] = new TextEncoder().encode('big');
    const t = readTorchCheckpoint(zipSync(members), 'be.pt') as TorchTensor;
    expect(Array.from(t.data as Float32Array)).toEqual([1.5, -2.25]);
  });

  it('says which storage member is missing', () => {
    const pkl = tensorPickle(new PickleBuilder().proto(2), 'HalfStorage', '7', 4, 0, [4], [1]).stop().bytes();
    const err = (() => {
      try {
        readTorchCheckpoint(torchZip(pkl), 'm.pt');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WeightsFormatError);
    expect((err as Error).message).toMatch(/storage archive\/data\/7 is missing/);
  });
});
