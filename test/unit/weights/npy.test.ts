import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, readNpy } from '../../helpers/npy.js';
import { describeShared, shared } from '../../helpers/shared.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'freezelab-npy-'));

/** Writes a .npy the way numpy.save does (header padded so data starts 64-byte aligned). */
function npyBytes(header: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let h = header;
  const total = pre + h.length + 1;
  h += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(new TextEncoder().encode(h), pre);
  out.set(data, pre + h.length);
  return out;
}

describe('readNpy', () => {
  const values = Float32Array.from({ length: 24 }, (_, i) => (i - 7) / 3);
  const raw = new Uint8Array(values.buffer);

  it.each([1, 2])('reads version %i.0 little-endian float32 C-order arrays', (major) => {
    const f = path.join(tmp, `v${major}.npy`);
    writeFileSync(f, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", raw, major));
    const a = readNpy(f);
    expect(a.shape).toEqual([2, 3, 4]);
    expect(a.data).toEqual(values);
  });

  it('reads scalars and 1-D shapes', () => {
    expect(
      parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", raw.subarray(0, 4)), 's').shape,
    ).toEqual([]);
    expect(parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (24,), }", raw), 'v').shape).toEqual([
      24,
    ]);
  });

  it.each([
    [
      'float64',
      "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
      raw,
      /dtype <f8 is not little-endian float32/,
    ],
    ['big-endian', "{'descr': '>f4', 'fortran_order': False, 'shape': (24,), }", raw, /dtype >f4/],
    ['Fortran order', "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 6), }", raw, /Fortran/],
    [
      'truncated data',
      "{'descr': '<f4', 'fortran_order': False, 'shape': (25,), }",
      raw,
      /needs 100 data bytes, the file has 96/,
    ],
  ])('refuses %s', (_n, header, data, message) => {
    expect(() => parseNpy(npyBytes(header, data), 'bad.npy')).toThrow(message);
  });

  it('refuses a file without the magic', () => {
    expect(() => parseNpy(new TextEncoder().encode('not numpy at all'), 'x.npy')).toThrow(
      /^x\.npy: not a readable \.npy file: missing/,
    );
  });
});

describeShared('readNpy on the reference files', () => {
  it('reads bus320-raw-p5.npy as [1,3,10,10,85] float32', () => {
    const a = readNpy(shared('reference', 'bus320-raw-p5.npy'));
    expect(a.shape).toEqual([1, 3, 10, 10, 85]);
    expect(a.data.length).toBe(1 * 3 * 10 * 10 * 85);
    expect(a.data.every(Number.isFinite)).toBe(true);
    // objectness/class logits of a detector are mostly negative: a byte-order mix-up would not be
    const negatives = a.data.filter((v) => v < 0).length;
    expect(negatives / a.data.length).toBeGreaterThan(0.5);
  });
});
