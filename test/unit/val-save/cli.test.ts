/**
 * `freezelab val --save-txt [--save-conf] [--out DIR] [--force]` through bin/freezelab.js (reads
 * dist/main: build it first): the default folder is the next free runs/val/exp here, existing
 * label files stop it before it evaluates, --force replaces them, the help says what is written.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ModelValResult } from '../../../src/shared/contract.js';
import { tempDir } from '../../helpers/service.js';
import { describeShared, shared } from '../../helpers/shared.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = path.join(root, 'bin', 'freezelab.js');
const exec = promisify(execFile);
const IMAGES = 8;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

describeShared('freezelab val --save-txt (CLI, dist/main)', () => {
  let dir: string;
  let yaml: string;
  let files: string[];

  /** Runs the CLI in `dir` (so runs/val/exp is there), with its own data folder. */
  const run = (...args: string[]): Promise<Ran> =>
    exec(process.execPath, [BIN, 'val', ...args, '--home', path.join(dir, 'home')], { cwd: dir }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  const common = () => [
    '--weights',
    shared('weights', 'yolov5n.pt'),
    '--data',
    yaml,
    '--img',
    '320',
    '--batch',
    '4',
    '--backend',
    'wasm',
  ];
  const stem = (f: string) => `${path.basename(f, path.extname(f))}.txt`;

  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist', 'main', 'cli', 'main.js'))) {
      throw new Error('dist/main is not built: run `npm run build:main` first');
    }
    dir = tempDir('freezelab-val-save-cli-');
    const imagesDir = shared('data', 'coco128', 'images', 'train2017');
    files = readdirSync(imagesDir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, IMAGES)
      .map((f) => path.join(imagesDir, f));
    const list = path.join(dir, 'subset.txt');
    writeFileSync(list, `${files.join('\n')}\n`);
    const names = readFileSync(shared('data', 'coco128', 'coco128.yaml'), 'utf8').split('names:')[1]!;
    yaml = path.join(dir, 'subset.yaml');
    writeFileSync(yaml, `path: ${dir}\ntrain: ${list}\nval: ${list}\nnames:${names}`);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the help names the options and says an image without predictions gets no file', async () => {
    const r = await exec(process.execPath, [BIN, 'val', '--help']);
    for (const option of ['--save-txt', '--save-conf', '--out DIR', '--force']) expect(r.stdout).toContain(option);
    expect(r.stdout).toMatch(/without predictions gets no file/);
    expect(r.stdout).toMatch(/runs\/val\/exp/);
  });

  it('--out or --force without --save-txt is a usage error', async () => {
    const r = await run(...common(), '--out', path.join(dir, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out and --force apply to saved predictions: add --save-txt/);
    expect(existsSync(path.join(dir, 'x'))).toBe(false);
  });

  it('writes to the next free runs/val/exp, refuses existing files, replaces them with --force', async () => {
    const exp = path.join(dir, 'runs', 'val', 'exp');
    // --save-conf implies --save-txt.
    const first = await run(...common(), '--save-conf');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^ +Class +Images +Instances +P +R +mAP50 +mAP50-95$/m);
    const saved = /^(\d+) label files \((\d+) predictions with confidences\) saved to (.+)$/m.exec(first.stdout);
    expect(first.stdout).toContain(`Results saved to ${exp}\n`);
    expect(saved?.[3]).toMatch(new RegExp(`^${path.join(exp, 'labels').replace(/[/\\.]/g, '\\$&')}`));
    const labelFiles = Number(saved![1]);
    expect(labelFiles).toBe(IMAGES); // conf 0.001: every image has predictions
    expect(readdirSync(path.join(exp, 'labels')).sort()).toEqual(files.map(stem).sort());
    const one = readFileSync(path.join(exp, 'labels', stem(files[0]!)), 'utf8')
      .trim()
      .split('\n');
    for (const line of one) expect(line.split(' ')).toHaveLength(6);

    // Again without --out: exp2; without --save-conf: five numbers a line.
    const second = await run(...common(), '--save-txt');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`Results saved to ${exp}2\n`);
    const line = readFileSync(path.join(`${exp}2`, 'labels', stem(files[0]!)), 'utf8').split('\n')[0]!;
    expect(line.split(' ')).toHaveLength(5);
    expect(one[0]!.startsWith(`${line} `)).toBe(true); // the same prediction, without its confidence

    // Into exp again: refused before evaluating, one line on stderr, nothing on stdout.
    const before = readFileSync(path.join(exp, 'labels', stem(files[0]!)), 'utf8');
    const refused = await run(...common(), '--save-txt', '--out', exp, '--conf', '0.5');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`${IMAGES} of the ${IMAGES} label files to write already exist in`);
    expect(refused.stderr).toMatch(/nothing was evaluated/);
    expect(readFileSync(path.join(exp, 'labels', stem(files[0]!)), 'utf8')).toBe(before);

    // --force --json: replaced (conf 0.5: fewer lines), the JSON says what was saved.
    const forced = await run(...common(), '--save-conf', '--out', exp, '--conf', '0.5', '--force', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    const j = JSON.parse(forced.stdout) as ModelValResult;
    expect(j.saved).toMatchObject({ dir: exp, labelsDir: path.join(exp, 'labels'), saveConf: true });
    expect(j.saved!.labelFiles + j.saved!.imagesWithoutPredictions).toBe(IMAGES);
    expect(readdirSync(path.join(exp, 'labels'))).toHaveLength(j.saved!.labelFiles);
    let lines = 0;
    for (const f of readdirSync(path.join(exp, 'labels'))) {
      const rows = readFileSync(path.join(exp, 'labels', f), 'utf8')
        .trim()
        .split('\n');
      for (const row of rows) expect(Number(row.split(' ')[5])).toBeGreaterThanOrEqual(0.5);
      lines += rows.length;
    }
    expect(lines).toBe(j.saved!.predictions);
    expect(lines).toBeLessThan(Number(saved![2]));
  }, 300_000);
});
