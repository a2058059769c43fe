/**
 * Seeded pseudo-random numbers for the training loader: xoshiro128** seeded through splitmix32,
 * with the distributions YOLOv5's augmentations draw from (Python `random` and `np.random`).
 * Streams are derived from (seed, keys...) so that any epoch, or any item of an epoch, can be
 * regenerated on its own: resuming at epoch k, or preparing items out of order, gives the same draws.
 */

/** splitmix32 step: a well-mixed 32-bit output from a 32-bit counter. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/**
 * A 32-bit seed from a seed and any number of integer keys (epoch, item position, purpose).
 * Different key lists give independent-looking seeds.
 */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = splitmix32(seed | 0)[1];
  for (const k of keys) {
    // Mix both halves so keys above 2^32 (unlikely but possible) still matter.
    const lo = k | 0;
    const hi = Math.floor(k / 0x100000000) | 0;
    h = splitmix32(h ^ lo)[1];
    if (hi !== 0) h = splitmix32(h ^ hi)[1];
  }
  return h >>> 0;
}

/** Seeded generator (xoshiro128**). Not for cryptography. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareGaussian: number | undefined;

  /** Generator for `seed` and optional keys (see `deriveSeed`). */
  constructor(seed: number, ...keys: number[]) {
    let st = deriveSeed(seed, ...keys);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out | 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // xoshiro's state must not be all zero.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits (like Python's random.random). */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [a, b) (Python random.uniform: a + (b - a) * random()). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  /** Integer in [lo, hi], both inclusive (Python random.randint). */
  randint(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`randint(${lo}, ${hi}): empty range`);
    return lo + this.below(hi - lo + 1);
  }

  /** Unbiased integer in [0, n) for n up to 2^32 (rejection sampling). */
  below(n: number): number {
    if (n <= 0 || n > 0x100000000) throw new RangeError(`below(${n}): n must be in 1..2^32`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** One element drawn uniformly (Python random.choice). */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('choice from an empty list');
    return items[this.below(items.length)]!;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }

  /** Standard normal scaled to (mean, std), by the polar Box-Muller method. */
  gaussian(mean = 0, std = 1): number {
    if (this.spareGaussian !== undefined) {
      const z = this.spareGaussian;
      this.spareGaussian = undefined;
      return mean + std * z;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.random() - 1;
      v = 2 * this.random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareGaussian = v * m;
    return mean + std * u * m;
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang (shape < 1 boosted by U^(1/shape)). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`gamma shape must be positive, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.random() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.gaussian();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.random();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (np.random.beta for mixup). */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
