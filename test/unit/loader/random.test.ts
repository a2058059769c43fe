import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed } from '../../../src/main/engine/data/random.js';

const draw = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.nextUint32());

describe('Rng', () => {
  it('repeats a stream for the same seed and keys and differs otherwise', () => {
    expect(draw(new Rng(7, 3, 1), 50)).toEqual(draw(new Rng(7, 3, 1), 50));
    const a = draw(new Rng(7, 3, 1), 50);
    for (const other of [new Rng(8, 3, 1), new Rng(7, 4, 1), new Rng(7, 3, 2), new Rng(7, 3)]) {
      const b = draw(other, 50);
      expect(b.filter((v, i) => v === a[i]).length).toBeLessThan(3);
    }
    expect(deriveSeed(1, 2, 3)).not.toBe(deriveSeed(1, 3, 2));
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(1, 0x100000000));
  });

  it('draws uniform, randint and below within their ranges, covering them', () => {
    const r = new Rng(1);
    const seen = new Set<number>();
    const below = new Set<number>();
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 20000; i++) {
      const u = r.uniform(-2, 3);
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      seen.add(r.randint(4, 9));
      below.add(r.below(3));
    }
    expect([...below].sort()).toEqual([0, 1, 2]);
    expect(lo).toBeGreaterThanOrEqual(-2);
    expect(hi).toBeLessThan(3);
    expect(lo).toBeLessThan(-1.99);
    expect(hi).toBeGreaterThan(2.99);
    expect([...seen].sort()).toEqual([4, 5, 6, 7, 8, 9]);
    expect(() => r.randint(3, 2)).toThrow(RangeError);
  });

  it('shuffles into a permutation, differently per seed', () => {
    const base = Array.from({ length: 100 }, (_, i) => i);
    const a = new Rng(1).shuffle([...base]);
    const b = new Rng(2).shuffle([...base]);
    expect([...a].sort((x, y) => x - y)).toEqual(base);
    expect(a).not.toEqual(base);
    expect(a).not.toEqual(b);
    expect(new Rng(1).shuffle([...base])).toEqual(a);
  });

  it('has the moments of the normal and of Beta(32, 32) (mixup ratio)', () => {
    const r = new Rng(42);
    const n = 20000;
    const stats = (f: () => number): [number, number] => {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = f();
        s += v;
        s2 += v * v;
      }
      const m = s / n;
      return [m, Math.sqrt(s2 / n - m * m)];
    };
    const [gm, gs] = stats(() => r.gaussian(3, 2));
    expect(Math.abs(gm - 3)).toBeLessThan(0.05);
    expect(Math.abs(gs - 2)).toBeLessThan(0.05);
    const [bm, bsd] = stats(() => r.beta(32, 32));
    expect(Math.abs(bm - 0.5)).toBeLessThan(0.003);
    // Var Beta(a, a) = 1 / (4 (2a + 1)).
    expect(Math.abs(bsd - Math.sqrt(1 / (4 * 65)))).toBeLessThan(0.003);
    const [sm] = stats(() => r.gamma(0.5));
    expect(Math.abs(sm - 0.5)).toBeLessThan(0.03);
  });
});
