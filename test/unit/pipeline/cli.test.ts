import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIO, runCli } from '../../../src/main/cli/cli.js';
import { detectCommand } from '../../../src/main/cli/commands/detect.js';
import { valCommand } from '../../../src/main/cli/commands/val.js';
import { loadDataConfig } from '../../../src/main/engine/data/config.js';
import { describeShared, shared } from '../../helpers/shared.js';

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), env: {} };
  const code = await runCli(argv, [detectCommand, valCommand], io);
  return { code, out, err };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'freezelab-cli-pipeline-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('freezelab detect / val: command-line errors', () => {
  it('a missing required option or a bad number is a usage error (exit 2)', async () => {
    const r = await cli('detect', '--source', 'x.jpg');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--weights is required/);
    expect((await cli('val', '--weights', 'n', '--data', 'd.yaml', '--batch', '0')).code).toBe(2);
    expect((await cli('detect', '--weights', 'n', '--source', 'x', '--iou', 'lots')).err).toMatch(
      /--iou takes a number/,
    );
  });
  it('a missing image, an undecodable image, a corrupt checkpoint or a missing YAML: one line, exit 1', async () => {
    const junk = path.join(dir, 'junk.jpg');
    writeFileSync(junk, 'this is not a jpeg');
    const badPt = path.join(dir, 'bad.pt');
    writeFileSync(badPt, 'not a zip either');
    const cases: [string[], RegExp][] = [
      [
        ['detect', '--weights', 'n', '--source', path.join(dir, 'nope.jpg'), '--backend', 'wasm'],
        /nope\.jpg: no such file/,
      ],
      [['detect', '--weights', 'n', '--source', junk, '--backend', 'wasm'], /Cannot read image .*junk\.jpg/],
      [['detect', '--weights', badPt, '--source', junk, '--backend', 'wasm'], /bad\.pt/],
      [
        ['val', '--weights', 'n', '--data', path.join(dir, 'none.yaml'), '--backend', 'wasm'],
        /Dataset YAML not found: .*none\.yaml/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      const errorLines = r.err.split('\n').filter((l) => l && !l.includes('has no trained weights'));
      expect(errorLines, argv.join(' ')).toHaveLength(1);
      expect(errorLines[0]).toMatch(pattern);
      expect(r.out).toBe('');
    }
  });
});

describeShared('freezelab detect / val with yolov5n.pt', () => {
  const weights = shared('weights', 'yolov5n.pt');
  it('detect prints one line per detection, or JSON', async () => {
    const r = await cli(
      'detect',
      '--weights',
      weights,
      '--source',
      shared('reference', 'images', 'bus.jpg'),
      '--backend',
      'wasm',
    );
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('person 0.88 [55, 398, 211, 889]');
    expect(lines.at(-1)).toMatch(/^bus 0\.49 \[\d+, \d+, \d+, \d+\]$/);
    const j = await cli(
      'detect',
      '--weights',
      weights,
      '--source',
      shared('reference', 'images', 'zidane.jpg'),
      '--json',
    );
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.out);
    expect(parsed.inputShape).toEqual([384, 640]);
    expect(parsed.detections.map((d: { name: string }) => d.name)).toEqual(['person', 'person', 'tie']);
  });

  it('val prints the val.py table for a small split, progress on stderr, and JSON with --json', async () => {
    // Four coco128 images through an image list: the labels are found next to them.
    const coco = await loadDataConfig(shared('data', 'coco128', 'coco128.yaml'));
    const imgDir = shared('data', 'coco128', 'images', 'train2017');
    const picked = ['000000000009.jpg', '000000000025.jpg', '000000000030.jpg', '000000000034.jpg'];
    writeFileSync(path.join(dir, 'list.txt'), picked.map((f) => path.join(imgDir, f)).join('\n'));
    const yaml = path.join(dir, 'four.yaml');
    writeFileSync(
      yaml,
      `path: ${dir}\nval: list.txt\nnames:\n${coco.names.map((n, i) => `  ${i}: ${n}`).join('\n')}\n`,
    );
    const labels = picked.flatMap((f) =>
      readFileSync(path.join(shared('data', 'coco128', 'labels', 'train2017'), f.replace('.jpg', '.txt')), 'utf8')
        .trim()
        .split('\n'),
    );
    const r = await cli(
      'val',
      '--weights',
      weights,
      '--data',
      yaml,
      '--img',
      '320',
      '--batch',
      '2',
      '--backend',
      'wasm',
    );
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/val: batch 2\/2, 4\/4 images/);
    const lines = r.out.split('\n');
    expect(lines[0]!.trim().split(/\s+/)).toEqual(['Class', 'Images', 'Instances', 'P', 'R', 'mAP50', 'mAP50-95']);
    const all = lines[1]!.trim().split(/\s+/);
    expect(all.slice(0, 3)).toEqual(['all', '4', String(labels.length)]);
    const classes = new Set(labels.map((l) => Number(l.split(' ')[0])));
    expect(lines.slice(2).filter((l) => l.startsWith(' ')).length).toBe(classes.size);
    expect(r.out).toMatch(/Speed: .* ms inference/);
    const j = await cli('val', '--weights', weights, '--data', yaml, '--img', '320', '--batch', '4', '--json');
    const parsed = JSON.parse(j.out);
    expect([parsed.images, parsed.instances, parsed.perClass.length]).toEqual([4, labels.length, classes.size]);
    expect(parsed.map50).toBeCloseTo(Number(all[5]), 2);
  });
});
