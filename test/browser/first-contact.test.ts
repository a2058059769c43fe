import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trainConfigSchema } from '../../src/shared/train-config.js';
import { screenshot, watchPage } from '../helpers/browser.js';
import { seededService, type SeededRun } from '../helpers/seeded-runs.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { makeTinyDataset, type TinyDataset } from '../helpers/tiny-dataset.js';

/** A new user's first minutes with recorded runs: where the app opens, addresses, numbering. */
describeBrowser('first contact with recorded runs', () => {
  let app: ServedApp;
  let runs: SeededRun[];
  let dataDir: string;
  let dataset: TinyDataset;

  beforeAll(async () => {
    const seeded = seededService();
    runs = seeded.runs;
    dataDir = seeded.dataDir;
    dataset = await makeTinyDataset({ train: 2, val: 1, size: 64, classes: 2 });
    app = await serveApp(seeded.service);
  });
  afterAll(async () => {
    await app?.close();
    await app?.service.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (dataset) rmSync(dataset.root, { recursive: true, force: true });
  });

  const hash = (url: string) => new URL(url).hash;
  const squeeze = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();

  it('opens on Runs, and sections and runs have addresses that Back and Forward follow', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await expect.poll(() => page.getByTestId('runs-count').textContent(), { timeout: 30_000 }).toBe('3 runs');
    expect(await page.locator('#tab-runs').getAttribute('aria-selected')).toBe('true');
    expect(hash(page.url())).toBe('#/runs');
    await screenshot(page, 'first-runs');

    const [first, second] = runs;
    await page.locator(`[data-testid="run-row"][data-run-id="${first!.id}"]`).getByTestId('run-open').click();
    await expect.poll(() => hash(page.url())).toBe(`#/runs/${first!.id}`);
    await expect.poll(() => page.getByTestId('run-detail').textContent()).toContain(first!.name);
    await page.locator('#tab-explorer').click();
    await expect.poll(() => hash(page.url())).toBe('#/explorer');
    await page.locator('#tab-compare').click();
    await expect.poll(() => hash(page.url())).toBe('#/compare');

    await page.goBack();
    await expect.poll(() => page.locator('#tab-explorer').getAttribute('aria-selected')).toBe('true');
    expect(hash(page.url())).toBe('#/explorer');
    await page.goBack();
    await expect.poll(() => page.locator('#tab-runs').getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.getByTestId('run-detail').textContent()).toContain(first!.name);
    await page.goBack();
    expect(hash(page.url())).toBe('#/runs');
    await expect.poll(() => page.getByTestId('run-detail').count()).toBe(0);
    await page.goForward();
    await expect.poll(() => page.getByTestId('run-detail').textContent()).toContain(first!.name);
    await page.goForward();
    await expect.poll(() => page.locator('#tab-explorer').getAttribute('aria-selected')).toBe('true');

    // A run's address, bookmarked, opens that run.
    const bookmarked = await app.browser.newPage();
    await bookmarked.goto(`${app.host.url}#/runs/${second!.id}`);
    await expect.poll(() => bookmarked.getByTestId('run-detail').textContent()).toContain(second!.name);
    expect(await bookmarked.locator('#tab-runs').getAttribute('aria-selected')).toBe('true');
    await screenshot(bookmarked, 'first-run-detail');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('counts epochs from 1 in the run detail and in the compare CSV alike', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    const [first, , cancelled] = runs;
    await page.goto(`${app.host.url}#/runs/${first!.id}`);
    const facts = page.getByTestId('run-detail').locator('dl.facts');
    await expect.poll(async () => squeeze(await facts.textContent()), { timeout: 30_000 }).toContain('Epochs 3/3');
    const best = first!.bestEpochIndex! + 1;
    expect(squeeze(await facts.textContent())).toContain(`Best epoch ${best},`);

    // The cancelled run: one epoch done is epoch 1 of 3.
    await page.goto(`${app.host.url}#/runs/${cancelled!.id}`);
    await expect.poll(() => page.getByTestId('run-detail').textContent()).toContain(cancelled!.name);
    expect(squeeze(await page.getByTestId('run-detail').locator('dl.facts').textContent())).toContain('Epochs 1/3');

    // Compare the two completed runs and download the CSV: its bestEpoch is the detail's.
    await page.goto(`${app.host.url}#/runs`);
    for (const run of runs.slice(0, 2)) {
      await page.locator(`[data-testid="run-row"][data-run-id="${run.id}"] input[type="checkbox"]`).check();
    }
    await page.getByTestId('compare-selected').click();
    await expect.poll(() => hash(page.url())).toBe('#/compare');
    await expect.poll(() => page.getByTestId('compare-row').count(), { timeout: 30_000 }).toBe(2);
    // 2 runs x 3 epochs drawn before the picture is taken (charts redraw after the data changed).
    await expect.poll(() => page.getByTestId('chart-compare-map').getAttribute('data-drawn-points')).toBe('6');
    await screenshot(page, 'first-compare');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const [header, ...rows] = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r\n/);
    const column = header!.split(',').indexOf('bestEpoch');
    expect(column).toBeGreaterThan(-1);
    expect(rows.map((r) => r.split(',')[column])).toEqual([String(best), String(best)]);
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('asks before freezing untrained weights; the default hyp is the CLI one', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${app.host.url}#/runs`);
    // The launcher and the CLI start from the same hyper-parameters.
    const cliDefault = trainConfigSchema.parse({ data: 'd.yaml', model: 'n' }).hyp;
    expect(await page.getByTestId('launch-hyp').inputValue()).toBe(cliDefault);
    expect(await page.getByTestId('hyp-help').textContent()).toContain('in the CLI');

    await page.getByTestId('launch-data').fill(dataset.yaml);
    await page.getByTestId('check-data').click();
    await expect.poll(() => page.getByTestId('dataset-report').isVisible(), { timeout: 30_000 }).toBe(true);
    // The class table starts collapsed, under the problems.
    expect(await page.getByTestId('class-counts').getAttribute('open')).toBeNull();
    // Without weights, the form asks for them first.
    expect(await page.getByTestId('launch-model').inputValue()).toBe('weights');
    expect(await page.getByTestId('launch-blocker').textContent()).toContain('Give a weights file');

    // A model size without weights, with the backbone frozen: a confirmation is needed.
    await page.getByTestId('launch-model').selectOption('n');
    await page.getByTestId('launch-freeze').fill('backbone');
    await expect.poll(() => page.getByTestId('untrained-warning').isVisible()).toBe(true);
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('start-sweep').isDisabled()).toBe(true);
    expect(await page.getByTestId('launch-blocker').textContent()).toContain('confirm freezing untrained modules');
    await screenshot(page, 'first-launcher-untrained');
    await page.getByTestId('confirm-untrained').check();
    await expect.poll(() => page.getByTestId('start-run').isDisabled()).toBe(false);

    // Start: the new run opens, has its address, and is scrolled into view below the long form.
    await page.getByTestId('start-run').click();
    await expect.poll(() => hash(page.url())).toBe(`#/runs/${runs.length + 1}`);
    await expect.poll(() => page.getByTestId('run-detail').textContent()).toContain(`#${runs.length + 1}`);
    await expect
      .poll(() => page.getByTestId('run-detail').evaluate((el) => Math.round(el.getBoundingClientRect().top)))
      .toBeLessThan(100);
    await screenshot(page, 'first-run-queued');
    // This service runs no jobs: the queued run is cancelled at once (the list says so).
    await page.getByTestId('run-detail').getByTestId('live-cancel').click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runs.length + 1}"]`);
    await expect.poll(() => row.getByTestId('run-status').textContent()).toBe('cancelled');

    // Weights given: nothing to confirm.
    await page.getByTestId('confirm-untrained').uncheck();
    await page.getByTestId('launch-weights').fill('/somewhere/yolov5n.pt');
    await expect.poll(() => page.getByTestId('untrained-warning').count()).toBe(0);
    expect(await page.getByTestId('start-run').isDisabled()).toBe(false);
    // Freezing nothing from random initialisation is training from scratch: nothing to confirm.
    await page.getByTestId('launch-weights').fill('');
    await page.getByTestId('launch-freeze').fill('none');
    for (const preset of ['Backbone', 'All but Detect']) {
      await page.getByRole('group', { name: 'Sweep' }).getByLabel(preset, { exact: true }).uncheck();
    }
    await expect.poll(() => page.getByTestId('untrained-warning').count()).toBe(0);
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('keeps About collapsed until asked, and switches the theme', async () => {
    const page = await app.browser.newPage();
    await page.goto(`${app.host.url}#/explorer`);
    const about = page.locator('#app-about');
    expect(await about.isVisible()).toBe(false);
    await page.getByTestId('about-toggle').click();
    await expect.poll(() => about.isVisible()).toBe(true);
    const width = await about.evaluate((el) => el.getBoundingClientRect().width / window.innerWidth);
    expect(width).toBeLessThan(0.25);
    await page.getByTestId('theme').selectOption('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await screenshot(page, 'first-explorer-about-dark');
    await page.getByTestId('theme').selectOption('system');
    await page.getByTestId('about-toggle').click();
    await expect.poll(() => about.isVisible()).toBe(false);
  });
});
