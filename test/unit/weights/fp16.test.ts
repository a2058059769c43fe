import { describe, expect, it } from 'vitest';
import { floatToHalfBits, halfToFloat32 } from '../../../src/main/engine/weights/fp16.js';

/** Independent reference: the IEEE 754 binary16 definition, by arithmetic rather than bit moves. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

describe('fp16 -> fp32', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const out = halfToFloat32(all);

  it('matches the binary16 definition for all 65,536 patterns (subnormals, zeros, inf, nan)', () => {
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) {
      const want = halfValue(h);
      const got = out[h]!;
      if (Number.isNaN(want) ? !Number.isNaN(got) : !Object.is(got, want)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('keeps the sign of zero and of infinities', () => {
    expect(Object.is(out[0x8000], -0)).toBe(true);
    expect(out[0x7c00]).toBe(Infinity);
    expect(out[0xfc00]).toBe(-Infinity);
    expect(out[0x0001]).toBe(2 ** -24); // smallest subnormal
  });

  it('converts a sub-range without touching the rest', () => {
    const part = halfToFloat32(all, 0x3c00, 2);
    expect(Array.from(part)).toEqual([1, halfValue(0x3c01)]);
  });
});

describe('fp32 -> fp16 (used by tests and writers)', () => {
  it('round-trips every non-NaN half exactly', () => {
    let bad = 0;
    for (let h = 0; h < 65536; h++) {
      const v = halfValue(h);
      if (!Number.isNaN(v) && floatToHalfBits(v) !== h) bad++;
    }
    expect(bad).toBe(0);
  });

  it('rounds to nearest even, overflows to inf and keeps NaN a NaN', () => {
    // halfway between 1 and the next half (1 + 2^-10): ties to even -> 1
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalfBits(70000)).toBe(0x7c00);
    expect(floatToHalfBits(2 ** -26)).toBe(0); // below half the smallest subnormal
    expect(Number.isNaN(halfValue(floatToHalfBits(NaN)))).toBe(true);
  });
});
