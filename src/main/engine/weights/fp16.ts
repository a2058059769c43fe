/**
 * IEEE 754 half and bfloat16 conversions. Half -> float goes through a 65,536-entry table of
 * float32 bit patterns (256 KiB, built once) because checkpoints hold millions of fp16 values.
 */

let table: Uint32Array | null = null;

/** float32 bit pattern of one half-precision value (exact: every half is a float32). */
export function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) {
    // inf (mant 0) or NaN, payload kept in the top mantissa bits
    return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  }
  if (exp !== 0) {
    return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
  }
  if (mant === 0) return sign >>> 0; // signed zero
  // subnormal half: value = mant * 2^-24; normalise it for float32
  let e = -14;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e -= 1;
  }
  return (sign | ((e + 127) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

function halfTable(): Uint32Array {
  if (table === null) {
    table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfBitsToFloatBits(h);
  }
  return table;
}

/** Widens `count` halfs from `src` (starting at element `start`) into a new Float32Array. */
export function halfToFloat32(src: Uint16Array, start = 0, count = src.length - start): Float32Array {
  const t = halfTable();
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = t[src[start + i]!]!;
  return out;
}

/** Widens bfloat16 values (the top 16 bits of a float32) into a new Float32Array. */
export function bfloat16ToFloat32(src: Uint16Array, start = 0, count = src.length - start): Float32Array {
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = src[start + i]! << 16;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds a number to the nearest half (ties to even) and returns its bit pattern. */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflows to signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1; // may carry into inf: correct
  return sign | h;
}
