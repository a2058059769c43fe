import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { paretoFrontier } from '../../src/shared/compare.js';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { tempDir } from '../helpers/service.js';

/** A few 64x64 PNGs with one box each, two classes, train and val. */
async function makeDataset(root: string, opts: { brokenLine: boolean }): Promise<string> {
  for (const d of ['images/train', 'labels/train', 'images/val', 'labels/val']) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  const boxes = [
    '0 0.5 0.5 0.4 0.4',
    '1 0.3 0.3 0.2 0.3',
    '0 0.6 0.4 0.3 0.5',
    '1 0.5 0.6 0.5 0.3',
    '0 0.4 0.5 0.3 0.3',
    '1 0.5 0.5 0.6 0.6',
  ];
  for (const [i, box] of boxes.entries()) {
    const split = i < 4 ? 'train' : 'val';
    const colour = { r: 40 * i, g: 200 - 30 * i, b: 90 };
    await sharp({ create: { width: 64, height: 64, channels: 3, background: colour } })
      .png()
      .toFile(path.join(root, `images/${split}/img${i}.png`));
    const lines = [box];
    if (i === 0) lines.push(box); // a duplicate row: a warning, not an error
    if (i === 1 && opts.brokenLine) lines.push('1 0.5 0.5 0.2'); // four values: an error on line 2
    writeFileSync(path.join(root, `labels/${split}/img${i}.txt`), lines.join('\n') + '\n');
  }
  const yaml = path.join(root, 'data.yaml');
  writeFileSync(yaml, `path: ${root}\ntrain: images/train\nval: images/val\nnames: {0: square, 1: blob}\n`);
  return yaml;
}

describeBrowser('runs interface', () => {
  let app: ServedApp;
  let dir: string;
  let broken: string;
  let clean: string;

  beforeAll(async () => {
    dir = tempDir('freezelab-runs-ui-');
    broken = await makeDataset(path.join(dir, 'broken'), { brokenLine: true });
    clean = await makeDataset(path.join(dir, 'clean'), { brokenLine: false });
    app = await serveApp();
  });
  afterAll(async () => {
    await app?.close();
    await app?.service.close?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows empty states for runs and compare', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await page.locator('#tab-runs').click();
    await expect.poll(() => page.getByTestId('runs-empty').isVisible()).toBe(true);
    expect(await page.getByTestId('runs-count').textContent()).toBe('0 runs');
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('launch-blocker').textContent()).toContain('Give the dataset YAML');
    await screenshot(page, 'runs-empty');

    await page.locator('#tab-compare').click();
    await expect.poll(() => page.getByTestId('compare-empty').isVisible()).toBe(true);
    await screenshot(page, 'runs-compare-empty');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('checks the dataset before starting: errors block, warnings do not', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await page.locator('#tab-runs').click();

    await page.getByTestId('launch-data').fill(broken);
    await page.getByTestId('check-data').click();
    const report = page.getByTestId('dataset-report');
    await expect.poll(() => report.isVisible(), { timeout: 30_000 }).toBe(true);
    // Two splits; per-class instances per split (train: 2 + 2 after the duplicate is dropped).
    expect(await page.getByTestId('split-row').allTextContents()).toEqual([
      expect.stringMatching(/^train\s*4\s*0\s*0\s*4\s*2$/),
      expect.stringMatching(/^val\s*2\s*0\s*0\s*2\s*0$/),
    ]);
    expect(await page.getByTestId('class-count-row').allTextContents()).toEqual([
      expect.stringMatching(/^0\s*square\s*2\s*1$/),
      expect.stringMatching(/^1\s*blob\s*2\s*1$/),
    ]);
    const errorItems = page.locator('[data-testid="problem"][data-severity="error"]');
    expect(await errorItems.count()).toBe(1);
    expect(await errorItems.first().textContent()).toContain(
      'labels/train/img1.txt:2: expected 5 values (class cx cy w h), got 4',
    );
    expect(await page.locator('[data-testid="problem"][data-severity="warning"]').first().textContent()).toContain(
      'labels/train/img0.txt:2: duplicate of line 1',
    );
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('start-sweep').isDisabled()).toBe(true);
    expect(await page.getByTestId('launch-blocker').textContent()).toContain('Fix the dataset errors');
    await screenshot(page, 'runs-launcher-errors');

    // A clean dataset (a duplicate row is only a warning): starting is allowed (with weights).
    await page.getByTestId('launch-weights').fill(path.join(dir, 'yolov5n.pt'));
    await page.getByTestId('launch-data').fill(clean);
    await page.getByTestId('check-data').click();
    await expect.poll(() => page.getByTestId('start-run').isDisabled(), { timeout: 30_000 }).toBe(false);
    expect(await page.locator('[data-testid="problem"][data-severity="error"]').count()).toBe(0);
    expect(await report.textContent()).toContain('1 warning: training can start');

    // The freeze spec is validated as typed, with the shared parser's message.
    await page.getByTestId('launch-freeze').fill('0-x');
    await expect.poll(() => page.getByTestId('freeze-help').textContent()).toContain("'0-x' is not a module index");
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true);
    await page.getByTestId('launch-freeze').fill('0-9');
    await expect.poll(() => page.getByTestId('start-run').isDisabled()).toBe(false);

    // A path that does not exist gets the service's specific error.
    await page.getByTestId('launch-data').fill(path.join(dir, 'missing.yaml'));
    await page.getByTestId('check-data').click();
    await expect
      .poll(() => page.getByRole('alert').first().textContent(), { timeout: 30_000 })
      .toContain('missing.yaml');
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true);
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('runs a real sweep: live progress, list, detail, compare with frontier and exports', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await page.locator('#tab-runs').click();

    // These runs train yolov5n from random initialisation (no weights to download here): freezing
    // its modules needs the confirmation.
    await page.getByTestId('launch-model').selectOption('n');
    expect(await page.getByTestId('untrained-warning').isVisible()).toBe(true);
    await page.getByTestId('confirm-untrained').check();

    // A model file that does not exist is refused when starting, with the service's message.
    await page.getByTestId('launch-data').fill(clean);
    await page.getByTestId('check-data').click();
    await expect.poll(() => page.getByTestId('start-run').isDisabled(), { timeout: 30_000 }).toBe(false);
    await page.getByTestId('launch-model').selectOption('yaml');
    await page.getByTestId('launch-model-yaml').fill(path.join(dir, 'nope.yaml'));
    await page.getByTestId('start-run').click();
    await expect.poll(() => page.getByTestId('launcher').getByRole('alert').textContent()).toContain('nope.yaml');

    // Corrupt weights are only read by the training process: the run is queued, fails, and says why.
    const corrupt = path.join(dir, 'corrupt.pt');
    writeFileSync(corrupt, 'PK\u0003\u0004 this is not a checkpoint');
    await page.getByTestId('launch-model').selectOption('n');
    await page.getByTestId('launch-weights').fill(corrupt);
    await page.getByTestId('start-run').click();
    const detail = page.getByTestId('run-detail');
    await expect.poll(() => detail.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('failed');
    expect(await detail.getByRole('alert').textContent()).toContain('corrupt.pt');
    await screenshot(page, 'runs-failed');
    await page.getByTestId('launch-weights').fill('');

    // Sweep of the three presets on yolov5n at 64 px, 2 epochs each.
    await page.getByTestId('launch-model').selectOption('n');
    await page.getByTestId('launch-img').fill('64');
    await page.getByTestId('launch-batch').fill('2');
    await page.getByTestId('launch-epochs').fill('2');
    await page.getByTestId('launch-hyp').selectOption('scratch-low');
    expect(await page.getByTestId('start-sweep').textContent()).toBe('Run sweep (3 runs)');
    await page.getByTestId('start-sweep').click();
    await expect.poll(() => page.getByTestId('run-row').count(), { timeout: 30_000 }).toBe(4);

    // The first run opens by itself; while it runs it shows live progress.
    await expect.poll(() => page.getByTestId('live-run').isVisible(), { timeout: 60_000 }).toBe(true);
    await expect
      .poll(() => page.getByTestId('live-phase').textContent(), { timeout: 60_000, interval: 50 })
      .toMatch(/Epoch \d\/2 · (training|validating)/);
    const done = Number(await page.getByTestId('progress').getAttribute('aria-valuenow'));
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThanOrEqual(100);
    await screenshot(page, 'runs-live');

    const statuses = page.getByTestId('runs-table').getByTestId('run-status');
    await expect
      .poll(() => statuses.allTextContents(), { timeout: 180_000, interval: 1000 })
      .toEqual(['completed', 'completed', 'completed', 'failed']); // newest first
    await expect.poll(() => page.getByTestId('live-run').count()).toBe(0);

    // Keyboard sort: Enter on the mAP50-95 header sorts descending by best mAP50-95.
    const mapHeader = page.getByRole('button', { name: 'mAP50-95', exact: true });
    await mapHeader.focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toContain('mAP50-95');
    const maps = (await page.getByTestId('run-map').allTextContents()).map(Number);
    const measured = maps.filter(Number.isFinite);
    expect(measured).toHaveLength(3);
    expect(measured).toEqual([...measured].sort((a, b) => b - a));
    expect(maps.slice(3).every(Number.isNaN)).toBe(true); // the failed run ('–') sorts last

    // Detail of a finished run: per-class AP, PR curve, confusion matrix, config, artifacts.
    await page.locator('[data-testid="run-row"][data-run-id="2"]').getByTestId('run-open').click();
    await expect.poll(() => page.getByTestId('class-ap-row').count(), { timeout: 30_000 }).toBe(2);
    // PR chart: the mean curve plus one per class, each on the recall grid.
    const run2 = await app.service.call('runs.get', { id: 2 });
    if (!run2.ok || !run2.value.evaluation) throw new Error('run 2 has no final evaluation');
    const gridSize = run2.value.evaluation.result.prRecall.length;
    await expect.poll(() => page.getByTestId('chart-pr').getAttribute('data-drawn-points')).toBe(String(3 * gridSize));
    expect(await page.getByTestId('confusion-matrix').isVisible()).toBe(true);
    expect(await page.getByTestId('run-config').textContent()).toContain('"imgSize": 64');
    expect(await page.getByTestId('artifacts').textContent()).toMatch(/best[\s\S]*[0-9a-f]{64}/);
    // The run's notes: what AutoAnchor found, as the worker recorded it.
    const notes = run2.value.notes.map((n) => n.message);
    expect(notes.some((m) => m.startsWith('AutoAnchor'))).toBe(true);
    const squeeze = (t: string) => t.replace(/\s+/g, ' ').trim();
    await expect
      .poll(async () => (await page.getByTestId('run-notes').locator('li').allTextContents()).map(squeeze))
      .toEqual(run2.value.notes.map((n) => squeeze(`${n.level === 'warning' ? 'Note' : 'Info'} ${n.message}`)));
    await screenshot(page, 'runs-detail');

    // Compare: every completed run is plotted; the frontier is the one of the plotted points.
    const compared = await app.service.call('runs.compare', { ids: [2, 3, 4] });
    if (!compared.ok) throw new Error(compared.error.message);
    const rows = compared.value.rows;
    const expected = paretoFrontier(
      rows.map((r) => ({ id: r.runId, x: r.peakTensorBytes ?? NaN, y: r.bestMap50_95 ?? NaN })),
      { x: 'min', y: 'max' },
    ).map((p) => `#${p.id}`);
    await page.locator('#tab-compare').click();
    await expect.poll(() => page.getByTestId('compare-point-count').textContent(), { timeout: 30_000 }).toBe('3');
    expect(await page.getByTestId('frontier-ids').textContent()).toBe(expected.join(', '));
    // Drawn: 3 points + the frontier line + the recommended run's marker.
    const marker = compared.value.recommendation.groupId === null ? 0 : 1;
    await expect
      .poll(() => page.getByTestId('chart-acc-memory').getAttribute('data-drawn-points'))
      .toBe(String(3 + expected.length + marker));
    await expect.poll(() => page.getByTestId('chart-compare-map').getAttribute('data-drawn-points')).toBe('6');
    expect(await page.getByTestId('compare-row').count()).toBe(3);
    expect(await page.getByTestId('recommendation').textContent()).toContain(compared.value.recommendation.line);
    await screenshot(page, 'runs-compare');
    // Dark theme: the charts redraw in the theme's colours.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByTestId('metric-map50').focus();
    await screenshot(page, 'runs-compare-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    expect(readFileSync((await csv.path())!, 'utf8')).toBe(compared.value.csv);
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('chart-acc-memory').getByTestId('chart-png').click(),
    ]);
    expect(png.suggestedFilename()).toBe('accuracy-vs-memory.png');
    expect(
      readFileSync((await png.path())!)
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    await page.getByTestId('metric-map50').click();
    await expect.poll(() => page.getByTestId('chart-acc-memory').textContent()).toContain('Accuracy vs memory');

    // Delete asks first, then removes the run from the list.
    await page.locator('#tab-runs').click();
    await page.locator('[data-testid="run-row"][data-run-id="1"]').getByTestId('run-delete').click();
    await page.getByTestId('run-delete-confirm').click();
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(3);
    expect(await page.locator('[data-testid="run-row"][data-run-id="1"]').count()).toBe(0);

    // Cancel a running run from its live panel: it stops, says so, and can be resumed.
    await page.getByTestId('launch-epochs').fill('30');
    await page.getByTestId('start-run').click();
    const running = page.getByTestId('run-detail');
    await expect.poll(() => running.getByTestId('live-phase').textContent(), { timeout: 60_000 }).toMatch(/training/);
    await page.getByTestId('live-cancel').click();
    await expect.poll(() => running.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('cancelled');
    expect(await page.locator('[data-testid="run-row"][data-run-id="5"]').getByTestId('run-resume').count()).toBe(1);
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
