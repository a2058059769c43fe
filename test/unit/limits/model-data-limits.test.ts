/**
 * Model and data YAMLs with absurd values (issue 14): each fails at once with a user error naming
 * the file and the limit, instead of hanging or exhausting memory.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DataConfigError, loadDataConfig, MAX_DATA_NC } from '../../../src/main/engine/data/config.js';
import { MAX_LABEL_BYTES } from '../../../src/main/engine/data/labels.js';
import { scanImage } from '../../../src/main/engine/data/scan.js';
import { builtinModelYaml } from '../../../src/main/engine/model/builtin.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import {
  MODEL_LIMITS,
  ModelYamlError,
  modelYamlFromObject,
  parseModelYaml,
  type LayerRow,
} from '../../../src/main/engine/model/yaml.js';
import { ncSchema } from '../../../src/shared/train-config.js';

/** yolov5s as the plain object a YAML file parses to, with `edit` applied. */
function yolov5s(edit: (o: Record<string, unknown>) => void = () => {}): Record<string, unknown> {
  const y = builtinModelYaml('yolov5s');
  const rows = (rs: readonly LayerRow[]): unknown[] => rs.map((r) => [r.from, r.number, r.module, r.args]);
  const o: Record<string, unknown> = {
    nc: y.nc,
    depth_multiple: y.depthMultiple,
    width_multiple: y.widthMultiple,
    anchors: y.anchors,
    backbone: rows(y.backbone),
    head: rows(y.head),
  };
  edit(o);
  return o;
}
const build = (o: Record<string, unknown>): unknown => buildGraph(modelYamlFromObject(o, 'm.yaml'));

describe('model YAML limits', () => {
  it('builds the unedited model (the limits leave real models alone)', () => {
    expect(() => build(yolov5s())).not.toThrow();
    expect(() =>
      build(yolov5s((o) => Object.assign(o, { depth_multiple: 1.33, width_multiple: 1.25, nc: 1000 }))),
    ).not.toThrow();
  });

  it('refuses depth_multiple and width_multiple over 4', () => {
    expect(() => build(yolov5s((o) => (o.depth_multiple = 1e9)))).toThrow(
      /^m\.yaml: 'depth_multiple' is 1000000000, over the limit of 4 \(MAX_DEPTH_MULTIPLE\)/,
    );
    expect(() => build(yolov5s((o) => (o.width_multiple = 4.5)))).toThrow(/MAX_WIDTH_MULTIPLE/);
  });

  it('refuses a row number over 100', () => {
    const o = yolov5s((x) => ((x.backbone as unknown[][])[2]![1] = 1e8));
    expect(() => build(o)).toThrow(
      /^m\.yaml: backbone row 2 \(module 2\): 'number' is 100000000, over the limit of 100 \(MAX_NUMBER\)/,
    );
  });

  it('refuses nc over what a run accepts (ncSchema)', () => {
    expect(MODEL_LIMITS.MAX_NC).toBe(ncSchema.maxValue);
    expect(() => build(yolov5s((o) => (o.nc = MODEL_LIMITS.MAX_NC + 1)))).toThrow(
      /'nc' is 1001, over the limit of 1000 \(MAX_NC\)/,
    );
    expect(() => buildGraph(builtinModelYaml('yolov5n'), { nc: 5_000_000 })).toThrow(ModelYamlError);
  });

  it('refuses channels over 8192 after width scaling', () => {
    const o = yolov5s((x) => {
      x.width_multiple = 4;
      (x.backbone as unknown[][])[0]![3] = [4096, 6, 2, 2];
    });
    expect(() => build(o)).toThrow(
      /module 0 \(Conv\): 16384 output channels after width scaling, over the limit of 8192 \(MAX_CHANNELS\)/,
    );
  });

  it('refuses a model over 1e9 parameters, counted from shapes before any allocation', () => {
    // a 20000x20000 kernel: 32*3*20000^2 = 3.84e10 weights (width 0.5) that must never be allocated
    const o = yolov5s((x) => ((x.backbone as unknown[][])[0]![3] = [64, 20000, 2, 2]));
    expect(() => build(o)).toThrow(
      /^m\.yaml: the model would have 3\.84e\+10 parameters, over the limit of 1e\+9 \(MAX_PARAMETERS\)/,
    );
  });

  it('refuses absurd anchor counts', () => {
    expect(() => build(yolov5s((o) => (o.anchors = 1e9)))).toThrow(/MAX_ANCHORS/);
  });
});

describe('data YAML limits', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'freezelab-limits-'));
  mkdirSync(path.join(dir, 'images'), { recursive: true });
  const yaml = (name: string, text: string): string => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('refuses a huge nc without names, before making names', async () => {
    const f = yaml('nc.yaml', 'train: images\nval: images\nnc: 1000000000\n');
    const err = await loadDataConfig(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataConfigError);
    expect((err as Error).message).toBe(
      `${f}: 'nc' is 1000000000, over the limit of ${MAX_DATA_NC} classes (MAX_DATA_NC)`,
    );
    expect(MAX_DATA_NC).toBe(ncSchema.maxValue);
  });

  it('refuses more names than MAX_DATA_NC, as a list or a map', async () => {
    const list = `train: images\nval: images\nnames: [${Array.from({ length: 1001 }, (_, i) => `c${i}`).join(', ')}]\n`;
    await expect(loadDataConfig(yaml('list.yaml', list))).rejects.toThrow(
      /'names' has 1001 entries, over the limit of 1000/,
    );
    const map = `train: images\nval: images\nnames:\n${Array.from({ length: 1001 }, (_, i) => `  ${i}: c${i}`).join('\n')}\n`;
    await expect(loadDataConfig(yaml('map.yaml', map))).rejects.toThrow(/MAX_DATA_NC/);
  });

  it("refuses 'path: /' with a user error", async () => {
    const f = yaml('root.yaml', 'path: /\ntrain: .\nval: .\nnames: [a]\n');
    const err = await loadDataConfig(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataConfigError);
    expect((err as DataConfigError).code).toBe('bad-file');
    expect((err as Error).message).toBe(`${f}: 'path' is /, the root of the file system, not a dataset folder`);
  });

  it('refuses a split that is the file system root, and a dataset root that is a file', async () => {
    await expect(loadDataConfig(yaml('split.yaml', 'train: /\nval: images\nnames: [a]\n'))).rejects.toThrow(
      /train split is \/, the root of the file system/,
    );
    const f = yaml('file-root.yaml', `path: ${path.join(dir, 'nc.yaml')}\ntrain: images\nnames: [a]\n`);
    await expect(loadDataConfig(f)).rejects.toThrow(/dataset root .*nc\.yaml is a file, not a folder/);
  });
});

describe('label file size limit', () => {
  it('reports a label file over MAX_LABEL_BYTES and skips its image', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'freezelab-labels-'));
    mkdirSync(path.join(dir, 'images'));
    mkdirSync(path.join(dir, 'labels'));
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    for (const n of ['big', 'small']) writeFileSync(path.join(dir, 'images', `${n}.png`), png);
    const row = '0 0.5 0.5 0.25 0.25\n';
    writeFileSync(path.join(dir, 'labels', 'big.txt'), row.repeat(Math.ceil((MAX_LABEL_BYTES + 1) / row.length)));
    writeFileSync(path.join(dir, 'labels', 'small.txt'), row);

    const big = await scanImage(path.join(dir, 'images', 'big.png'), 1, 'header');
    expect(big.ok).toBe(false);
    expect(big.rows).toEqual([]);
    expect(big.problems).toEqual([
      {
        kind: 'field-count',
        severity: 'error',
        file: path.join(dir, 'labels', 'big.txt'),
        reason: `label file is over ${MAX_LABEL_BYTES} bytes, the limit (MAX_LABEL_BYTES); image and labels skipped`,
      },
    ]);
    const small = await scanImage(path.join(dir, 'images', 'small.png'), 1, 'header');
    expect(small.ok).toBe(true);
    expect(small.rows).toHaveLength(1);
  });
});

describe('model YAML aliases', () => {
  it('refuses an alias bomb with a ModelYamlError, not an internal error', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(
        `${cur}: &${cur} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
      );
    }
    expect(() => parseModelYaml(`${levels.join('\n')}\n`, 'lol.yaml')).toThrow(/^lol\.yaml: cannot be read: .*alias/i);
  });
});
