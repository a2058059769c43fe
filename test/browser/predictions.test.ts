/**
 * The predictions view on a demo run (best checkpoint = the demo's base weights, dataset = the
 * demo's domain B): disagreements first, and its TP/FP/FN are the engine's (val's matching).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadDataConfig } from '../../src/main/engine/data/config.js';
import { predictSplit, type PredictSplitResult } from '../../src/main/engine/eval/disagreements-run.js';
import { instantiateModel, resolveModelSource } from '../../src/main/engine/model/source.js';
import { initBackend } from '../../src/main/engine/tf/backend.js';
import { predictionsCsv } from '../../src/shared/commands/predictions.js';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { demoRunService, seedDemoRun, type DemoRunFolder } from '../unit/predictions/fixtures.js';

describeBrowser('predictions against labels', () => {
  let app: ServedApp;
  let folder: DemoRunFolder;
  let engine: PredictSplitResult;
  let names: readonly string[];

  beforeAll(async () => {
    folder = await seedDemoRun();
    await initBackend({ prefer: 'wasm' });
    const cfg = await loadDataConfig(folder.dataYaml);
    names = cfg.names;
    const { model } = instantiateModel(await resolveModelSource(folder.weights));
    try {
      engine = await predictSplit(model, { data: cfg, imgSize: 128, conf: 0.25, confident: 0.5 });
    } finally {
      model.dispose();
    }
    app = await serveApp(demoRunService(folder));
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await app?.service.close();
    if (folder) rmSync(folder.dataDir, { recursive: true, force: true });
  });

  it("lists a demo run's images disagreements first, with the engine's TP/FP/FN, and exports them as CSV", async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${app.host.url}#/predictions`);
    const run = page.getByTestId('predictions-run');
    await expect.poll(() => run.inputValue()).toBe(String(folder.runId));
    await page.getByTestId('predictions-start').click();
    await page
      .getByTestId('predictions-totals')
      .waitFor({ timeout: 120_000 })
      .catch(async (error: unknown) => {
        await screenshot(page, 'predictions-failed');
        throw new Error(
          `no totals: ${String(error)}\npage: ${await page.locator('main').innerText()}\n${errors.join('\n')}`,
        );
      });

    const t = engine.totals;
    expect(await page.getByTestId('total-tp').textContent()).toBe(String(t.tp));
    expect(await page.getByTestId('total-fp').textContent()).toBe(String(t.fp));
    expect(await page.getByTestId('total-fn').textContent()).toBe(String(t.fn));

    const rows = page.getByTestId('prediction-row');
    await expect.poll(() => rows.count()).toBe(64);
    const scores = (await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-score'))))) as number[];
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1]!);
    expect(scores[0]).toBeGreaterThan(0);
    expect(Number(await rows.first().getByTestId('row-disagreements').getAttribute('data-count'))).toBeGreaterThan(0);
    const paths = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-path')));
    expect(paths).toEqual(engine.images.map((im) => im.path));
    // Per-row counts are the engine's too.
    const perRow = await rows.evaluateAll((els) =>
      els.map((e) =>
        ['row-tp', 'row-fp', 'row-fn'].map((id) => Number(e.querySelector(`[data-testid="${id}"]`)!.textContent)),
      ),
    );
    expect(perRow).toEqual(engine.images.map((im) => [im.tp, im.fp, im.fn]));

    // The first image opens large: its labels and predictions drawn, its disagreements listed.
    const first = engine.images[0]!;
    const view = page.getByTestId('prediction-image');
    await expect.poll(() => view.getAttribute('data-path')).toBe(first.path);
    await expect.poll(() => view.getByTestId('box').count()).toBe(first.labels.length + first.predictions.length);
    expect(await view.getByTestId('disagreement').count()).toBe(first.disagreements.length);
    await expect.poll(() => view.locator('image').count()).toBe(1);
    await screenshot(page, 'predictions-view');
    mkdirSync('/work/screens', { recursive: true });
    await page.screenshot({ path: '/work/screens/E-predictions.png', fullPage: true });

    // Another row opens its image.
    await rows.nth(3).click();
    await expect.poll(() => view.getAttribute('data-path')).toBe(engine.images[3]!.path);

    // Only disagreements.
    await page.getByTestId('only-disagreements').check();
    await expect.poll(() => rows.count()).toBe(t.imagesWithDisagreements);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('predictions-csv').click()]);
    const saved = await download.path();
    copyFileSync(saved, '/work/screens/E-predictions.csv');
    expect(download.suggestedFilename()).toBe(`predictions-run-${folder.runId}-val.csv`);
    expect(readFileSync(saved, 'utf8')).toBe(predictionsCsv({ images: engine.images, names }));
    expect(errors).toEqual([]);
  }, 240_000);
  it('takes weights and a dataset YAML instead of a run, with the same counts', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${app.host.url}#/predictions`);
    await page.getByTestId('source-weights').check();
    await page.getByTestId('predictions-weights').fill(folder.weights);
    await page.getByTestId('predictions-data').fill(folder.dataYaml);
    await page.getByTestId('predictions-img').fill('128');
    await page.getByTestId('predictions-start').click();
    await page.getByTestId('predictions-totals').waitFor({ timeout: 120_000 });
    const t = engine.totals;
    expect(await page.getByTestId('total-tp').textContent()).toBe(String(t.tp));
    expect(await page.getByTestId('total-fp').textContent()).toBe(String(t.fp));
    expect(await page.getByTestId('total-fn').textContent()).toBe(String(t.fn));
    const paths = await page
      .getByTestId('prediction-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-path')));
    expect(paths).toEqual(engine.images.map((im) => im.path));
    // A missing dataset is refused with the reason, not as a failed job.
    await page.getByTestId('predictions-data').fill('/nowhere/data.yaml');
    await page.getByTestId('predictions-start').click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('/nowhere/data.yaml');
    expect(errors).toEqual([]);
  }, 180_000);
});
