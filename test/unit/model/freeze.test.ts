import { describe, expect, it } from 'vitest';
import {
  FREEZE_PRESETS,
  FreezeSpecError,
  formatFreezeSpec,
  isFrozenParam,
  parseFreezeSpec,
  resolveFreeze,
} from '../../../src/shared/freeze.js';

const v5 = { moduleCount: 25, backboneCount: 10, detectIndex: 24 };
const p6 = { moduleCount: 34, backboneCount: 12, detectIndex: 33 };

describe('parseFreezeSpec', () => {
  it('reads a single N as YOLOv5 "first N"', () => {
    expect(parseFreezeSpec('10')).toEqual({ kind: 'first', count: 10 });
    expect(parseFreezeSpec(' 0 ')).toEqual({ kind: 'first', count: 0 });
  });
  it('reads lists with commas, spaces and ranges, sorted and unique', () => {
    expect(parseFreezeSpec('0,1,5')).toEqual({ kind: 'list', indices: [0, 1, 5] });
    expect(parseFreezeSpec('5 1 0')).toEqual({ kind: 'list', indices: [0, 1, 5] });
    expect(parseFreezeSpec('5 5')).toEqual({ kind: 'list', indices: [5] });
    expect(parseFreezeSpec('0-3, 7')).toEqual({ kind: 'list', indices: [0, 1, 2, 3, 7] });
    expect(parseFreezeSpec('5,')).toEqual({ kind: 'list', indices: [5] });
  });
  it('reads presets case-insensitively', () => {
    expect(parseFreezeSpec('Backbone')).toEqual({ kind: 'preset', preset: 'backbone' });
    expect(parseFreezeSpec('all-but-detect')).toEqual({ kind: 'preset', preset: 'all-but-detect' });
    expect(parseFreezeSpec('none')).toEqual({ kind: 'preset', preset: 'none' });
  });
  it.each([
    ['abc', /'abc' is not a module index/],
    ['-1', /cannot be negative/],
    ['10,x', /'x' is not a module index/],
    ['', /empty/],
    ['9-3', /runs backwards/],
    ['1.5', /not a module index/],
  ])('rejects %j', (text, message) => {
    expect(() => parseFreezeSpec(text)).toThrow(FreezeSpecError);
    expect(() => parseFreezeSpec(text)).toThrow(message);
  });
  it('round-trips through formatFreezeSpec', () => {
    for (const t of ['10', '0,1,5', '5,', 'backbone', 'none', 'all-but-detect', '0']) {
      const spec = parseFreezeSpec(t);
      expect(parseFreezeSpec(formatFreezeSpec(spec))).toEqual(spec);
    }
  });
});

describe('resolveFreeze', () => {
  it('resolves presets against the graph, not constants', () => {
    expect(resolveFreeze(parseFreezeSpec('backbone'), v5)).toEqual([...Array(10).keys()]);
    expect(resolveFreeze(parseFreezeSpec('backbone'), p6)).toEqual([...Array(12).keys()]);
    expect(resolveFreeze(parseFreezeSpec('all-but-detect'), v5)).toEqual([...Array(24).keys()]);
    expect(resolveFreeze(parseFreezeSpec('all-but-detect'), p6)).toEqual([...Array(33).keys()]);
    expect(resolveFreeze(parseFreezeSpec('none'), v5)).toEqual([]);
  });
  it('resolves N and lists, and rejects out-of-range indices', () => {
    expect(resolveFreeze(parseFreezeSpec('3'), v5)).toEqual([0, 1, 2]);
    expect(resolveFreeze(parseFreezeSpec('25'), v5)).toHaveLength(25);
    expect(() => resolveFreeze(parseFreezeSpec('26'), v5)).toThrow(/more than the 25 modules/);
    expect(resolveFreeze(parseFreezeSpec('1,24'), v5)).toEqual([1, 24]);
    expect(() => resolveFreeze(parseFreezeSpec('1,30'), v5)).toThrow(/30 out of range.*0-24/);
  });
  it('lists the presets for the UI', () => {
    expect(FREEZE_PRESETS.map((p) => p.id)).toEqual(['none', 'backbone', 'all-but-detect']);
    for (const p of FREEZE_PRESETS) expect(parseFreezeSpec(p.id)).toEqual({ kind: 'preset', preset: p.id });
  });
});

describe('isFrozenParam', () => {
  it("uses YOLOv5's `model.{i}.` prefix rule", () => {
    expect(isFrozenParam('model.1.conv.weight', [1])).toBe(true);
    expect(isFrozenParam('model.10.conv.weight', [1])).toBe(false);
    expect(isFrozenParam('model.24.m.0.weight', [2])).toBe(false);
    expect(isFrozenParam('model.2.m.0.cv1.conv.weight', [2])).toBe(true);
    expect(isFrozenParam('model.2.m.0.cv1.conv.weight', [])).toBe(false);
  });
});
