import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  HypFileError,
  loadHypFile,
  parseHypYaml,
  resolveHyp,
  scaleHypForModel,
} from '../../../src/main/engine/train/hyp.js';
import { HYP_KEYS, HYP_PRESETS, HYP_RANGES, inHypRange } from '../../../src/shared/hyp.js';
import { FreezeLabError } from '../../../src/shared/result.js';
import { describeShared, shared } from '../../helpers/shared.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'freezelab-hyp-'));
function writeTmp(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

describeShared('built-in presets equal the official YOLOv5 files', () => {
  const files = { 'scratch-low': 'hyp.scratch-low.yaml', finetune: 'hyp.finetune.yaml', VOC: 'hyp.VOC.yaml' } as const;
  for (const [preset, file] of Object.entries(files)) {
    it(`${preset} = ${file}`, () => {
      const official = parse(readFileSync(shared('reference', 'models', file), 'utf8')) as Record<string, number>;
      expect({ ...HYP_PRESETS[preset as keyof typeof files] }).toEqual(official);
    });
  }

  it('the official files load through the user-file path without warnings', async () => {
    for (const file of Object.values(files)) {
      const loaded = await loadHypFile(shared('reference', 'models', file));
      expect(loaded.warnings).toEqual([]);
    }
  });
});

describe('hyp presets', () => {
  it('every preset value lies in its validity range', () => {
    for (const hyp of Object.values(HYP_PRESETS)) {
      for (const k of HYP_KEYS) expect(inHypRange(hyp[k], HYP_RANGES[k]), k).toBe(true);
    }
  });

  it('resolves preset names case-insensitively and defaults to scratch-low', async () => {
    expect((await resolveHyp(undefined)).source).toBe('scratch-low');
    expect((await resolveHyp('voc')).hyp).toBe(HYP_PRESETS.VOC);
    expect((await resolveHyp('Finetune')).hyp.lr0).toBe(0.0032);
  });

  it('treats a name with .yaml as a file, and a missing file as not-found', async () => {
    const err = await resolveHyp(path.join(tmp, 'finetune.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FreezeLabError);
    expect((err as FreezeLabError).code).toBe('not-found');
  });
});

describe('user hyp files', () => {
  it('fills missing keys from scratch-low and warns about unknown keys', async () => {
    const file = writeTmp('partial.yaml', 'lr0: 0.002\nmosaic: 0.5\nfoo: 3\n');
    const loaded = await resolveHyp(file);
    expect(loaded.hyp.lr0).toBe(0.002);
    expect(loaded.hyp.mosaic).toBe(0.5);
    expect(loaded.hyp.momentum).toBe(HYP_PRESETS['scratch-low'].momentum);
    expect(loaded.hyp).not.toHaveProperty('foo');
    expect(loaded.warnings.some((w) => w.includes("'foo'"))).toBe(true);
    expect(loaded.warnings.some((w) => w.includes('missing') && w.includes('momentum'))).toBe(true);
  });

  it('rejects a non-number with the file and key', () => {
    const file = path.join(tmp, 'bad-type.yaml');
    const err = (() => {
      try {
        parseHypYaml('lr0: fast\n', file);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HypFileError);
    const e = err as HypFileError;
    expect(e.file).toBe(file);
    expect(e.key).toBe('lr0');
    expect(e.message).toContain('bad-type.yaml');
    expect(e.message).toContain("'lr0' must be a number");
    expect(e.code).toBe('bad-file');
  });

  it('rejects out-of-range values naming the range', () => {
    expect(() => parseHypYaml('momentum: 1.5\n', 'm.yaml')).toThrow(/'momentum' is 1.5, outside \[0, 1\)/);
    expect(() => parseHypYaml('anchor_t: 1\n', 'a.yaml')).toThrow(/'anchor_t' is 1, outside \(1, inf\)/);
    expect(() => parseHypYaml('lr0: 0\n', 'l.yaml')).toThrow(HypFileError);
    expect(() => parseHypYaml('fliplr: -0.1\n', 'f.yaml')).toThrow(/fliplr/);
  });

  it('rejects invalid YAML and non-mapping documents', () => {
    expect(() => parseHypYaml('lr0: [0.01\n', 'broken.yaml')).toThrow(/broken.yaml: not valid YAML/);
    expect(() => parseHypYaml('- 1\n- 2\n', 'list.yaml')).toThrow(/must be a YAML mapping/);
    expect(() => parseHypYaml('', 'empty.yaml')).toThrow(/must be a YAML mapping/);
  });

  it('accepts an explicit anchors count and ignores a null one', () => {
    expect(parseHypYaml('anchors: 3\n', 'x.yaml').hyp.anchors).toBe(3);
    expect(parseHypYaml('anchors:\n', 'x.yaml').hyp.anchors).toBeUndefined();
  });
});

describe('scaleHypForModel', () => {
  it('scales gains like train.py for a P6 model with another nc and image size', () => {
    const h = scaleHypForModel(HYP_PRESETS['scratch-low'], { nc: 20, nl: 4, imgSize: 1280, labelSmoothing: 0.1 });
    expect(h.box).toBeCloseTo(0.05 * 0.75, 15);
    expect(h.cls).toBeCloseTo(0.5 * (20 / 80) * 0.75, 15);
    expect(h.obj).toBeCloseTo(1.0 * 4 * 0.75, 15);
    expect(h.label_smoothing).toBe(0.1);
    expect(h.lr0).toBe(0.01);
  });
});
