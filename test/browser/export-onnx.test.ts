/**
 * Served mode, issue 15's downloads: a finished run's "Export ONNX" writes its best checkpoint as
 * ONNX into the data folder's exports; the page links it, the download is the file's bytes, and
 * the downloaded model runs in onnxruntime-node with YOLOv5's export output [1, N, 5 + nc]. Then a
 * pre-label job with that run's weights, whose label files download as one .zip. Screenshots are
 * looked at.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../../src/main/engine/model/source.js';
import { initBackend } from '../../src/main/engine/tf/backend.js';
import { saveCheckpoint } from '../../src/main/engine/weights/checkpoint.js';
import { resolveDataPaths } from '../../src/main/paths.js';
import { createService } from '../../src/main/service/service.js';
import { addArtifact, createRun, openStore, recordEpoch, setRunStatus } from '../../src/main/store/index.js';
import { watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { tempDir } from '../helpers/service.js';
import { epoch, newRun } from '../unit/store/fixtures.js';

const SCREENS = '/work/screens';
const names = ['cat', 'dog'];
/** The run's training image size: the export's default. */
const IMG = 320;

describeBrowser('ONNX export and pre-label downloads in served mode', () => {
  let app: ServedApp;
  let dataDir: string;
  let runId: number;

  beforeAll(async () => {
    await initBackend();
    dataDir = tempDir('freezelab-onnx-ui-');
    const paths = resolveDataPaths({ dataDir }, {});
    // A finished run whose best checkpoint is a FreezeLab checkpoint of a 2-class yolov5n.
    const src = await resolveModelSource('n', { nc: 2, names });
    const { model } = instantiateModel(src, { seed: 3 });
    const db = openStore(paths.databasePath);
    try {
      const run = createRun(db, newRun({ name: 'two classes', epochs: 2, imgSize: IMG }));
      runId = run.id;
      const best = path.join(paths.runsDir, String(run.id), 'weights', 'best.safetensors');
      mkdirSync(path.dirname(best), { recursive: true });
      await saveCheckpoint(best, model.exportTensors(), { yaml: modelYamlToObject(src.yaml, 2), names, epoch: 1 });
      setRunStatus(db, run.id, 'running', { pid: process.pid });
      recordEpoch(db, run.id, epoch(0));
      recordEpoch(db, run.id, epoch(1));
      addArtifact(db, run.id, { kind: 'best', path: best, epoch: 1 });
      setRunStatus(db, run.id, 'completed');
    } finally {
      db.close();
      model.dispose();
    }
    const service = createService({ host: 'web', runJobs: false, paths, loadBackend: () => initBackend() });
    app = await serveApp(service);
    mkdirSync(SCREENS, { recursive: true });
  });
  afterAll(async () => {
    await app?.close();
    await app?.service.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports a finished run to ONNX from its page; the download is the file and runs in onnxruntime', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${app.host.url}#/runs/${runId}`);
    const onnx = page.getByTestId('onnx-export');
    await expect.poll(() => onnx.isVisible(), { timeout: 20_000 }).toBe(true);
    // Defaults: the run's image size and opset 12.
    expect(await onnx.getByTestId('onnx-img-size').inputValue()).toBe(String(IMG));
    expect(await onnx.getByTestId('onnx-opset').inputValue()).toBe('12');
    await onnx.getByTestId('export-onnx').click();
    const link = onnx.getByTestId('onnx-file');
    await expect.poll(() => link.count(), { timeout: 120_000 }).toBe(1);
    const file = (await link.getAttribute('title'))!;
    expect(file).toBe(path.join(dataDir, 'exports', `run-${runId}-best.onnx`));
    expect(await link.textContent()).toBe(`run-${runId}-best.onnx`);
    // N = 3 anchors x (40² + 20² + 10²) cells at 320; 5 + 2 classes.
    const n = 3 * ((IMG / 8) ** 2 + (IMG / 16) ** 2 + (IMG / 32) ** 2);
    expect(await onnx.getByTestId('onnx-shapes').textContent()).toContain(`output [1, ${n}, 7]`);
    expect(await onnx.getByTestId('onnx-warning').count()).toBe(0); // a best checkpoint, trained weights

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe(`run-${runId}-best.onnx`);
    const saved = await download.path();
    const bytes = readFileSync(saved);
    expect(bytes.equals(readFileSync(file))).toBe(true);

    const session = await ort.InferenceSession.create(saved);
    try {
      expect(session.inputNames).toEqual(['images']);
      const input = new ort.Tensor('float32', new Float32Array(3 * IMG * IMG).fill(0.5), [1, 3, IMG, IMG]);
      const out = await session.run({ images: input });
      const output = out[session.outputNames[0]!]!;
      expect(output.dims).toEqual([1, n, 5 + names.length]);
      expect(Array.from(output.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }
    await page.getByTestId('onnx-export').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SCREENS, 'G-onnx-export.png'), fullPage: true });

    // Again without "replace": refused with the service's words in the error box; with it, written again.
    await onnx.getByTestId('export-onnx').click();
    await expect
      .poll(() => onnx.getByRole('alert').textContent(), { timeout: 120_000 })
      .toMatch(/exists|force|replace/i);
    await onnx.getByTestId('onnx-force').check();
    await onnx.getByTestId('export-onnx').click();
    await expect.poll(() => link.count(), { timeout: 120_000 }).toBe(1);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  it("pre-labels a folder with the run's weights; its label files download as one .zip", async () => {
    const source = path.join(tempDir('freezelab-onnx-ui-src-'), 'new batch');
    mkdirSync(source);
    for (let i = 0; i < 3; i++) {
      const raw = Buffer.alloc(96 * 96 * 3, 0);
      for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 3) * 31) % 256;
      writeFileSync(
        path.join(source, `img${i}.jpg`),
        await sharp(raw, { raw: { width: 96, height: 96, channels: 3 } })
          .jpeg()
          .toBuffer(),
      );
    }
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${app.host.url}#/prelabel`);
    await expect.poll(() => page.getByTestId('prelabel-form').isVisible()).toBe(true);
    await page.getByTestId('weights-from-run').check();
    await page.getByTestId('prelabel-run').selectOption(String(runId));
    await page.getByTestId('prelabel-source').fill(source);
    await page.getByTestId('prelabel-img').fill('160');
    // The run's weights are random: a low threshold makes label rows to compare, not empty files.
    await page.getByTestId('prelabel-conf').fill('0.003');
    await page.getByTestId('prelabel-save-img').check();
    await page.getByTestId('prelabel-start').click();
    await expect.poll(() => page.getByTestId('prelabel-summary').isVisible(), { timeout: 120_000 }).toBe(true);

    // Written to the data folder's detect/exp: the labels folder as a zip link.
    const labelsDir = path.join(dataDir, 'detect', 'exp', 'labels');
    const zipLink = page.getByTestId('prelabel-labels-zip');
    await expect.poll(() => zipLink.getAttribute('title')).toBe(labelsDir);
    expect(await zipLink.textContent()).toBe('Download labels (.zip)');
    const [download] = await Promise.all([page.waitForEvent('download'), zipLink.click()]);
    expect(download.suggestedFilename()).toBe('labels.zip');
    const unzipped = unzipSync(new Uint8Array(readFileSync(await download.path())));
    const onDisk = readdirSync(labelsDir).sort();
    expect(onDisk).toEqual(['img0.txt', 'img1.txt', 'img2.txt']);
    expect(Object.keys(unzipped).sort()).toEqual(onDisk);
    for (const name of onDisk) {
      expect(Buffer.from(unzipped[name]!).equals(readFileSync(path.join(labelsDir, name))), name).toBe(true);
    }
    // Label rows to compare, not only empty files; as many as the summary counted.
    const rows = onDisk.reduce(
      (n, name) => n + readFileSync(path.join(labelsDir, name), 'utf8').split('\n').filter(Boolean).length,
      0,
    );
    expect(rows).toBeGreaterThan(0);
    expect(Number(await page.getByTestId('sum-detections').textContent())).toBe(rows);
    // Each annotated preview links to its file.
    const imageLinks = page.getByTestId('prelabel-image-file');
    await expect.poll(() => imageLinks.count(), { timeout: 30_000 }).toBe(3);
    const [image] = await Promise.all([page.waitForEvent('download'), imageLinks.first().click()]);
    const imageFile = (await imageLinks.first().getAttribute('title'))!;
    expect(path.dirname(imageFile)).toBe(path.join(dataDir, 'detect', 'exp'));
    expect(readFileSync(await image.path()).equals(readFileSync(imageFile))).toBe(true);
    await page.screenshot({ path: path.join(SCREENS, 'G-prelabel-downloads.png'), fullPage: true });

    // An output outside the data folder: no download links (the server would refuse them), a note saying why.
    await page.getByTestId('prelabel-out').fill(path.join(path.dirname(source), 'elsewhere'));
    await page.getByTestId('prelabel-start').click();
    await expect.poll(() => page.getByTestId('prelabel-no-download').isVisible(), { timeout: 120_000 }).toBe(true);
    expect(await page.getByTestId('prelabel-labels-zip').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid="prelabel-previews"] figcaption').count()).toBe(3);
    expect(await page.getByTestId('prelabel-image-file').count()).toBe(0);
    expect(await page.locator('[data-testid="prelabel-summary"] a[download]').count()).toBe(0);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });
});
