/**
 * `freezelab detect` over a folder: labels and annotated images written, existing files never
 * replaced without --force, unreadable images skipped; a job cancelled midway keeps its files.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../src/shared/commands/jobs.js';
import type { PrelabelSummary } from '../../../src/shared/commands/prelabel.js';
import { type CliIO, runCli } from '../../../src/main/cli/cli.js';
import { detectCommand } from '../../../src/main/cli/commands/detect.js';
import { parseLabelLines } from '../../../src/main/engine/infer/label-format.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';
import { tempDir } from '../../helpers/service.js';

let data: TinyDataset;
let dir: string;
let images: string;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), env: {} };
  const code = await runCli(argv, [detectCommand], io);
  return { code, out, err };
}

const common = ['--weights', 'n', '--img', '64', '--conf', '0.001', '--backend', 'wasm', '--workers', '1'];

beforeAll(async () => {
  data = await makeTinyDataset({ train: 0, val: 5, size: 64, seed: 3 });
  dir = tempDir('freezelab-prelabel-cli-');
  images = path.join(data.root, 'images', 'val');
  writeFileSync(path.join(images, 'broken.jpg'), 'not a jpeg');
}, 60_000);
afterAll(() => {
  rmSync(data.root, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('freezelab detect --source DIR', () => {
  it('never replaces an existing label file without --force; --force does', async () => {
    const out = path.join(dir, 'labels-run');
    const labels = path.join(out, 'labels');
    const home = ['--home', path.join(dir, 'home')];
    // A label an annotator already corrected.
    const human = path.join(labels, 'val0.txt');
    const r0 = await cli('detect', ...common, ...home, '--source', images, '--save-txt', '--save-conf', '--out', out);
    expect(r0.code, r0.err).toBe(0);
    expect(readdirSync(labels).sort()).toEqual(['val0.txt', 'val1.txt', 'val2.txt', 'val3.txt', 'val4.txt']);
    expect(r0.err).toMatch(/skipped .*broken\.jpg: unreadable: Cannot read image/);
    expect(r0.out).toMatch(/Done: 5 of 6 images .* 1 skipped/);
    expect(r0.out).toMatch(/5 label files written/);
    expect(readdirSync(out)).toEqual(['labels']); // --save-txt alone: no annotated images
    for (const f of readdirSync(labels))
      for (const l of parseLabelLines(readFileSync(path.join(labels, f), 'utf8'))) {
        expect(l.conf).toBeGreaterThanOrEqual(0.001);
        expect(l.cx).toBeGreaterThanOrEqual(0);
        expect(l.cx).toBeLessThanOrEqual(1);
      }
    writeFileSync(human, '1 0.5 0.5 0.25 0.25\n');
    const before = new Map(
      readdirSync(labels).map((f) => [
        f,
        { text: readFileSync(path.join(labels, f), 'utf8'), mtime: statSync(path.join(labels, f)).mtimeMs },
      ]),
    );
    await new Promise((r) => setTimeout(r, 30));
    const r1 = await cli('detect', ...common, ...home, '--source', images, '--save-txt', '--out', out);
    expect(r1.code, r1.err).toBe(0);
    expect(r1.err).toMatch(/skipped .*val0\.png: already done: .*val0\.txt exists/);
    expect(r1.out).toMatch(/0 label files written/);
    expect(r1.out).toMatch(/5 existing files kept/);
    for (const [f, b] of before) {
      expect(readFileSync(path.join(labels, f), 'utf8')).toBe(b.text);
      expect(statSync(path.join(labels, f)).mtimeMs).toBe(b.mtime);
    }
    const r2 = await cli('detect', ...common, ...home, '--source', images, '--save-txt', '--out', out, '--force');
    expect(r2.code, r2.err).toBe(0);
    expect(r2.out).toMatch(/5 label files written/);
    expect(readFileSync(human, 'utf8')).not.toBe('1 0.5 0.5 0.25 0.25\n');
    // Without --save-conf this time: five numbers a line.
    for (const l of parseLabelLines(readFileSync(human, 'utf8'))) expect(l.conf).toBeUndefined();
    for (const [f, b] of before) expect(statSync(path.join(labels, f)).mtimeMs).toBeGreaterThan(b.mtime);
  }, 120_000);

  it('writes annotated images at the original size, and labels, by default into runs/detect/expN', async () => {
    const cwd = process.cwd();
    const work = path.join(dir, 'cwd');
    (await import('node:fs')).mkdirSync(work, { recursive: true });
    process.chdir(work);
    try {
      const a = await cli(
        'detect',
        ...common,
        '--home',
        path.join(dir, 'home'),
        '--source',
        path.join(images, 'val*.png'),
      );
      expect(a.code, a.err).toBe(0);
      const b = await cli(
        'detect',
        ...common,
        '--home',
        path.join(dir, 'home'),
        '--source',
        path.join(images, 'val1.png'),
        '--save-img',
      );
      expect(b.code, b.err).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const exp = path.join(work, 'runs', 'detect', 'exp');
    expect(readdirSync(exp).sort()).toEqual(['labels', 'val0.png', 'val1.png', 'val2.png', 'val3.png', 'val4.png']);
    expect(readdirSync(path.join(work, 'runs', 'detect', 'exp2'))).toEqual(['val1.png']);
    const meta = await sharp(path.join(exp, 'val2.png')).metadata();
    const orig = await sharp(path.join(images, 'val2.png')).metadata();
    expect([meta.width, meta.height]).toEqual([orig.width, orig.height]);
    // Boxes drawn: the annotated image is not the original.
    const [x, y] = await Promise.all(
      [path.join(exp, 'val2.png'), path.join(images, 'val2.png')].map((f) => sharp(f).raw().toBuffer()),
    );
    expect(Buffer.compare(x!, y!)).not.toBe(0);
  }, 120_000);
});

describe('model.prelabel as a job', () => {
  it('cancelled midway: ends cancelled, keeps the label files written, each complete', async () => {
    const many = await makeTinyDataset({ train: 0, val: 40, size: 320, seed: 5 });
    const service = createService({
      host: 'web',
      runJobs: false,
      paths: resolveDataPaths({ dataDir: path.join(dir, 'home2') }, {}),
      loadBackend: () => initBackend({ prefer: 'wasm' }),
    });
    try {
      const out = path.join(dir, 'cancelled');
      const seen: JobProgress[] = [];
      const unsubscribe = service.events.subscribe((m) => {
        if (m.event !== 'job.progress') return;
        seen.push(m.payload);
        if (m.payload.status === 'running' && m.payload.done >= 1)
          void service.dispatch('jobs.cancel', { id: m.payload.jobId });
      });
      const started = await service.call('model.prelabel', {
        weights: 'n',
        source: path.join(many.root, 'images', 'val'),
        out,
        imgSize: 320,
        conf: 0.01,
        saveImg: false,
        workers: 1,
      });
      if (!started.ok) throw new Error(started.error.message);
      expect(started.value).toMatchObject({
        kind: 'prelabel',
        status: 'running',
        title: expect.stringMatching(/Pre-labelling 40 images in /),
      });
      const final = await service.context.jobs.wait(started.value.jobId);
      expect(final.status).toBe('cancelled');
      const summary = final.result as PrelabelSummary;
      expect(summary.cancelled).toBe(true);
      const written = readdirSync(path.join(out, 'labels'));
      expect(written.length).toBe(summary.labelFiles);
      expect(written.length).toBeGreaterThan(0);
      expect(written.length).toBeLessThan(40);
      for (const f of written)
        expect(() => parseLabelLines(readFileSync(path.join(out, 'labels', f), 'utf8'))).not.toThrow();
      expect(seen.at(-1)?.status).toBe('cancelled');
      unsubscribe();
      // Started again: carries on where it stopped (the written ones are kept, not redone).
      const again = await service.call('model.prelabel', {
        weights: 'n',
        source: path.join(many.root, 'images', 'val'),
        out,
        imgSize: 320,
        conf: 0.01,
        saveImg: false,
        workers: 2,
      });
      if (!again.ok) throw new Error(again.error.message);
      const rest = await service.context.jobs.wait(again.value.jobId);
      expect(rest.status).toBe('completed');
      const s2 = rest.result as PrelabelSummary;
      expect([s2.skippedCount, s2.labelFiles, s2.workers]).toEqual([written.length, 40 - written.length, 2]);
      expect(readdirSync(path.join(out, 'labels'))).toHaveLength(40);
    } finally {
      await service.close();
      rmSync(many.root, { recursive: true, force: true });
    }
  }, 180_000);

  it('refuses at once a source without images, and a request that saves nothing', async () => {
    const service = createService({
      host: 'web',
      runJobs: false,
      paths: resolveDataPaths({ dataDir: path.join(dir, 'home3') }, {}),
      loadBackend: () => initBackend({ prefer: 'wasm' }),
    });
    try {
      const empty = path.join(dir, 'empty');
      (await import('node:fs')).mkdirSync(empty, { recursive: true });
      const r = await service.call('model.prelabel', { weights: 'n', source: empty });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toMatch(/no image files/);
      const n = await service.call('model.prelabel', { weights: 'n', source: images, saveTxt: false, saveImg: false });
      expect(n.ok).toBe(false);
      if (!n.ok) expect(n.error.code).toBe('invalid-input');
    } finally {
      await service.close();
    }
  });
});
