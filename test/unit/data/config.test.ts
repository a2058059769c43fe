import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataConfigError, imageToLabelPath, loadDataConfig } from '../../../src/main/engine/data/config.js';

let root: string;
const yaml = (name: string, text: string): string => {
  const f = path.join(root, 'cfg', name);
  writeFileSync(f, text);
  return f;
};

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'freezelab-config-'));
  mkdirSync(path.join(root, 'cfg'));
  mkdirSync(path.join(root, 'ds', 'images', 'a'), { recursive: true });
  mkdirSync(path.join(root, 'ds', 'images', 'b'), { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadDataConfig', () => {
  it('resolves a relative path against the YAML folder, lists and names maps', async () => {
    const f = yaml(
      'ok.yaml',
      'path: ../ds\ntrain: [images/a, images/b]\nval: images/b\nnc: 2\nnames: {0: cat, 1: dog}\n',
    );
    const c = await loadDataConfig(f);
    expect(c.root).toBe(path.join(root, 'ds'));
    expect(c.splits.train).toEqual([path.join(root, 'ds/images/a'), path.join(root, 'ds/images/b')]);
    expect(c.splits.test).toBeUndefined();
    expect([c.nc, c.names]).toEqual([2, ['cat', 'dog']]);
  });
  it('uses the YAML folder when path is absent and accepts names as a list', async () => {
    mkdirSync(path.join(root, 'cfg', 'imgs'), { recursive: true });
    const c = await loadDataConfig(yaml('nopath.yaml', 'train: imgs\nval: imgs\nnames: [x]\n'));
    expect(c.root).toBe(path.join(root, 'cfg'));
    expect(c.names).toEqual(['x']);
  });
  it('gives specific errors', async () => {
    const err = async (f: string): Promise<string> => {
      try {
        await loadDataConfig(f);
        return 'no error';
      } catch (e) {
        expect(e).toBeInstanceOf(DataConfigError);
        return (e as Error).message.replace(root, '<root>').replace(root, '<root>');
      }
    };
    expect(await err(path.join(root, 'missing.yaml'))).toBe('Dataset YAML not found: <root>/missing.yaml');
    expect(await err(yaml('nosplit.yaml', 'path: ../ds\ntrain: images/zzz\nval: images/a\nnames: [a]\n'))).toBe(
      '<root>/cfg/nosplit.yaml: train split not found: <root>/ds/images/zzz',
    );
    expect(await err(yaml('nc.yaml', 'path: ../ds\ntrain: images/a\nval: images/a\nnc: 3\nnames: [a, b]\n'))).toBe(
      '<root>/cfg/nc.yaml: nc is 3 but names has 2 entries',
    );
    expect(await err(yaml('gap.yaml', 'path: ../ds\ntrain: images/a\nval: images/a\nnames: {0: a, 2: c}\n'))).toBe(
      "<root>/cfg/gap.yaml: 'names' must number classes 0..1 without gaps; found id 2",
    );
    expect(await err(yaml('nonames.yaml', 'path: ../ds\ntrain: images/a\nval: images/a\n'))).toBe(
      "<root>/cfg/nonames.yaml: no 'names'",
    );
  });
});

describe('imageToLabelPath', () => {
  it('swaps the last /images/ for /labels/ and the extension for .txt', () => {
    expect(imageToLabelPath('/d/images/x/images/train/a.b.JPG')).toBe('/d/images/x/labels/train/a.b.txt');
    expect(imageToLabelPath('/d/imgs/a.png')).toBe('/d/imgs/a.txt');
  });
});
