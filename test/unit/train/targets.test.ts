import { describe, expect, it } from 'vitest';
import { buildTargets, TargetsError } from '../../../src/main/engine/train/targets.js';

const shape = { bs: 2, na: 3, ny: 4, nx: 4 };
const anchors = [Float32Array.of(1, 1, 2, 2, 8, 8)];
const rowOf = (b: number, a: number, gj: number, gi: number): number => ((b * 3 + a) * 4 + gj) * 4 + gi;

describe('buildTargets (YOLOv5 build_targets)', () => {
  it('keeps anchors by ratio, adds the left and up neighbours, in PyTorch order', () => {
    // grid 4x4: gx 1.2 (frac .2 -> left), gy 2.4 (frac .4 -> up); inverse 2.8 / 1.6 -> no right/down.
    // wh (1, 2): anchor (1,1) ratio 2, (2,2) ratio 2, (8,8) ratio 8 >= 4 -> dropped.
    const [lt] = buildTargets(Float32Array.of(1, 7, 0.3, 0.6, 0.25, 0.5), [shape], anchors, 4.0);
    expect(lt?.n).toBe(6);
    expect([...(lt?.row ?? [])]).toEqual([
      rowOf(1, 0, 2, 1),
      rowOf(1, 1, 2, 1), // centre, anchors 0 and 1
      rowOf(1, 0, 2, 0),
      rowOf(1, 1, 2, 0), // left neighbour
      rowOf(1, 0, 1, 1),
      rowOf(1, 1, 1, 1), // upper neighbour
    ]);
    expect([...(lt?.cls ?? [])]).toEqual([7, 7, 7, 7, 7, 7]);
    const boxes = [...(lt?.tbox ?? [])];
    const want = [
      [0.2, 0.4, 1, 2],
      [0.2, 0.4, 1, 2],
      [1.2, 0.4, 1, 2],
      [1.2, 0.4, 1, 2],
      [0.2, 1.4, 1, 2],
      [0.2, 1.4, 1, 2],
    ].flat();
    boxes.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? NaN, 6));
    expect([...(lt?.anchorWh ?? [])]).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2]);
  });

  it('uses right and down neighbours and no neighbour near the border', () => {
    // gx 2.7 (frac .7; inverse 1.3 frac .3 > 1 -> right), gy 0.7 (gy > 1 false; inverse 3.3 -> down)
    const [lt] = buildTargets(Float32Array.of(0, 0, 0.675, 0.175, 0.25, 0.25), [shape], anchors, 4.0);
    // wh (1,1): anchor (1,1) ratio 1, (2,2) ratio 2 -> both kept; 3 cells each
    expect(lt?.n).toBe(6);
    expect([...(lt?.row ?? [])]).toEqual([
      rowOf(0, 0, 0, 2),
      rowOf(0, 1, 0, 2),
      rowOf(0, 0, 0, 3), // right: trunc(2.7 + 0.5) = 3
      rowOf(0, 1, 0, 3),
      rowOf(0, 0, 1, 2), // down: trunc(0.7 + 0.5) = 1
      rowOf(0, 1, 1, 2),
    ]);
    expect(lt?.tbox[8]).toBeCloseTo(-0.3, 6); // x relative to the right cell
    expect(lt?.tbox[17]).toBeCloseTo(-0.3, 6); // y relative to the lower cell
  });

  it('clamps a cell index at the border and measures the offset from the clamped cell', () => {
    const [lt] = buildTargets(
      Float32Array.of(0, 0, 1.0, 0.5, 0.25, 0.25),
      [shape],
      [Float32Array.of(1, 1, 1, 1, 1, 1)],
      4,
    );
    // gx = 4: frac 0 -> left neighbour (gx > 1); centre cell trunc(4) = 4 clamped to 3.
    expect(lt?.row[0]).toBe(rowOf(0, 0, 2, 3));
    expect(lt?.tbox[0]).toBe(1);
  });

  it('drops every anchor when the ratio test fails and handles no targets', () => {
    const [none] = buildTargets(Float32Array.of(0, 0, 0.5, 0.5, 0.01, 0.01), [shape], anchors, 4);
    expect(none?.n).toBe(0);
    const levels = buildTargets(
      new Float32Array(0),
      [shape, { ...shape, ny: 2, nx: 2 }],
      [anchors[0]!, anchors[0]!],
      4,
    );
    expect(levels.map((l) => l.n)).toEqual([0, 0]);
  });

  it('the ratio threshold is strict (max(r, 1/r) < anchor_t)', () => {
    // w = h = 2 grid cells against anchor 1: ratio exactly 2
    const t = Float32Array.of(0, 0, 0.5, 0.5, 0.5, 0.5);
    const one = [Float32Array.of(1, 1, 1, 1, 1, 1)];
    expect(buildTargets(t, [shape], one, 2)[0]?.n).toBe(0);
    expect(buildTargets(t, [shape], one, 2.0001)[0]?.n).toBeGreaterThan(0);
  });

  it('rejects malformed targets', () => {
    expect(() => buildTargets(new Float32Array(5), [shape], anchors, 4)).toThrow(TargetsError);
    expect(() => buildTargets(Float32Array.of(2, 0, 0.5, 0.5, 0.1, 0.1), [shape], anchors, 4)).toThrow(
      /image index 2 outside the batch of 2/,
    );
    expect(() => buildTargets(Float32Array.of(0, 0, 0.5, 0.5, 0.1, 0.1), [shape], [Float32Array.of(1, 1)], 4)).toThrow(
      /expected 3 anchors/,
    );
  });
});
