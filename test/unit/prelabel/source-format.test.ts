/** Source expansion (folder, glob, list) and the label file format (Python's '%g', float32). */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatG, labelLine, parseLabelLines } from '../../../src/main/engine/infer/label-format.js';
import { expandSource, segmentRegExp } from '../../../src/main/engine/infer/source.js';
import { tempDir } from '../../helpers/service.js';

describe("Python '%g' and detect.py's label lines", () => {
  it("formats as Python's '%g' % x does, ties to even", () => {
    const cases: [number, string][] = [
      [0, '0'],
      [1, '1'],
      [0.5, '0.5'],
      [100, '100'],
      [2.5, '2.5'],
      [0.0001, '0.0001'],
      [1e-5, '1e-05'],
      [0.00001234, '1.234e-05'],
      [0.000123456789, '0.000123457'],
      [123456, '123456'],
      [123456789, '1.23457e+08'],
      [999999.5, '1e+06'], // a tie, 9 odd: up
      [0.1015625, '0.101562'], // a tie, 2 even: stays (JS's toPrecision says 0.101563)
      [0.6171875, '0.617188'], // a tie, 7 odd: up
      [-0.25, '-0.25'],
      [0.333333333, '0.333333'],
    ];
    for (const [x, text] of cases) expect(formatG(x), String(x)).toBe(text);
  });

  it('writes cls cx cy w h [conf] normalised in float32, and reads it back', () => {
    // Centre 65/640 = 0.1015625 (a tie), 32/480 in float32 = 0.0666666701...
    expect(labelLine(3, [0, 0, 130, 64], 640, 480)).toBe('3 0.101562 0.0666667 0.203125 0.133333');
    const conf = Math.fround(0.87654321);
    expect(labelLine(0, [10, 20, 30, 40], 100, 100, conf)).toBe('0 0.2 0.3 0.2 0.2 0.876543');
    expect(parseLabelLines('0 0.2 0.3 0.2 0.2 0.876543\n\n3 0.101562 0.0666667 0.203125 0.133333\n')).toEqual([
      { cls: 0, cx: 0.2, cy: 0.3, w: 0.2, h: 0.2, conf: 0.876543 },
      { cls: 3, cx: 0.101562, cy: 0.0666667, w: 0.203125, h: 0.133333 },
    ]);
    expect(() => parseLabelLines('0 0.1 0.2\n')).toThrow(/not a YOLO label line/);
  });
});

describe('detect --source expansion', () => {
  let dir: string;
  const touch = (...parts: string[]) => {
    const f = path.join(dir, ...parts);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, 'x');
    return f;
  };
  beforeAll(() => {
    dir = tempDir('freezelab-source-');
    for (const f of [
      'b.jpg',
      'a.png',
      'c.JPG',
      'notes.txt',
      '.hidden.jpg',
      'sub/d.jpg',
      'sub/deeper/e.png',
      'val1.png',
      'val22.png',
    ])
      touch(f);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rel = (files: readonly string[]) => files.map((f) => path.relative(dir, f));

  it('a folder: its image files, sorted, not hidden ones, not its sub-folders', async () => {
    const r = await expandSource(dir);
    expect(r.kind).toBe('folder');
    expect(rel(r.files)).toEqual(['a.png', 'b.jpg', 'c.JPG', 'val1.png', 'val22.png']);
  });

  it('a glob: *, ?, [..], ** across folders; hidden files only when the pattern names the dot', async () => {
    expect(rel((await expandSource(path.join(dir, '*.png'))).files)).toEqual(['a.png', 'val1.png', 'val22.png']);
    expect(rel((await expandSource(path.join(dir, 'val?.png'))).files)).toEqual(['val1.png']);
    expect(rel((await expandSource(path.join(dir, '[!v]*'))).files)).toEqual(['a.png', 'b.jpg', 'c.JPG']);
    expect((await expandSource(path.join(dir, '**', '*.png'))).kind).toBe('glob');
    expect(rel((await expandSource(path.join(dir, '**', '*.png'))).files)).toEqual([
      'a.png',
      'sub/deeper/e.png',
      'val1.png',
      'val22.png',
    ]);
    expect(rel((await expandSource(path.join(dir, 'sub', '*', '*'))).files)).toEqual(['sub/deeper/e.png']);
    expect(rel((await expandSource(path.join(dir, '.*.jpg'))).files)).toEqual(['.hidden.jpg']);
    expect((await expandSource(path.join(dir, 'none*', '*.jpg'))).files).toEqual([]);
    expect(segmentRegExp('a.b[0-9]?').test('a.b7x')).toBe(true);
    expect(segmentRegExp('a.b').test('axb')).toBe(false);
  });

  it("a .txt list: images, folders and patterns, one a line, relative to the list's folder", async () => {
    const list = path.join(dir, 'lists', 'batch.txt');
    mkdirSync(path.dirname(list), { recursive: true });
    writeFileSync(list, `# to label\n../b.jpg\n${path.join(dir, 'a.png')}\n\n../sub\n../sub/deeper/*.png\n../b.jpg\n`);
    const r = await expandSource(list);
    expect(r.kind).toBe('list');
    expect(rel(r.files)).toEqual(['b.jpg', 'a.png', 'sub/d.jpg', 'sub/deeper/e.png']);
    writeFileSync(list, '../b.jpg\n../missing.jpg\n');
    await expect(expandSource(list)).rejects.toThrow(/batch\.txt line 2: .*missing\.jpg: no such file/);
  });

  it('one image is itself; a missing path or a non-image says what to give', async () => {
    expect(await expandSource(path.join(dir, 'b.jpg'))).toEqual({ kind: 'image', files: [path.join(dir, 'b.jpg')] });
    await expect(expandSource(path.join(dir, 'nope'))).rejects.toThrow(/no such file or folder/);
    await expect(expandSource(path.join(dir, 'notes.md'))).rejects.toThrow(/no such file/);
  });
});
