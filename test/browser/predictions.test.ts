/**
 * The predictions view on a really trained demo run: one run of the demo's configuration (base
 * weights, domain B, its image size, batch and hyp; all but Detect frozen, 1 epoch) trained by the
 * service's job runner before the page opens. The view lists its validation images disagreements
 * first, and its TP/FP/FN are the engine's (val's pipeline and matcher, `predictSplit`) on the
 * run's best checkpoint.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoWeightsPath } from '../../src/main/demo/demo.js';
import { loadDataConfig } from '../../src/main/engine/data/config.js';
import { predictSplit, type PredictSplitResult } from '../../src/main/engine/eval/disagreements-run.js';
import { instantiateModel, resolveModelSource } from '../../src/main/engine/model/source.js';
import { initBackend } from '../../src/main/engine/tf/backend.js';
import { predictionsCsv } from '../../src/shared/commands/predictions.js';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { trainDemoRun, type TrainedDemoRun } from '../unit/predictions/fixtures.js';

/**
 * Per parameter (not BatchNorm running statistics) of two checkpoints, the largest change relative
 * to the tensor's largest magnitude.
 */
async function relativeChanges(a: string, b: string): Promise<Map<string, number>> {
  const [x, y] = await Promise.all([resolveModelSource(a), resolveModelSource(b)]);
  const out = new Map<string, number>();
  for (const [name, t] of x.weights!.tensors) {
    if (/\.(running_mean|running_var|num_batches_tracked|anchors)$/.test(name)) continue;
    const u = y.weights!.tensors.get(name);
    if (!u) throw new Error(`${b} has no ${name}`);
    const p = t.data as Float32Array;
    const q = u.data as Float32Array;
    expect(q.length, name).toBe(p.length);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < p.length; i++) {
      diff = Math.max(diff, Math.abs(p[i]! - q[i]!));
      scale = Math.max(scale, Math.abs(p[i]!));
    }
    out.set(name, diff / Math.max(scale, 1e-12));
  }
  return out;
}

/** The demo sweep's preset trained here, and for how many epochs (a CI-time budget). */
const FREEZE = 'all-but-detect';
const EPOCHS = 1;

describeBrowser('predictions against labels', () => {
  let app: ServedApp;
  let folder: TrainedDemoRun;
  let engine: PredictSplitResult;
  let baseEngine: PredictSplitResult;
  let names: readonly string[];
  const started = performance.now();

  beforeAll(async () => {
    folder = await trainDemoRun({ freeze: FREEZE, epochs: EPOCHS });
    const trained = performance.now();
    await initBackend({ prefer: 'wasm' });
    const cfg = await loadDataConfig(folder.dataYaml);
    names = cfg.names;
    const predict = async (weights: string) => {
      const { model } = instantiateModel(await resolveModelSource(weights));
      try {
        return await predictSplit(model, { data: cfg, imgSize: 128, conf: 0.25, confident: 0.5 });
      } finally {
        model.dispose();
      }
    };
    engine = await predict(folder.weights);
    baseEngine = await predict(demoWeightsPath());
    app = await serveApp(folder.service);
    console.log(
      `trained demo run #${folder.runId} in ${folder.trainSeconds.toFixed(1)} s, engine predictions in ` +
        `${((performance.now() - trained) / 1000).toFixed(1)} s`,
    );
  }, 240_000);
  afterAll(async () => {
    await app?.close();
    await folder?.service.close();
    if (folder) rmSync(folder.dataDir, { recursive: true, force: true });
    console.log(`predictions test total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  it('trains the demo run for real: its best checkpoint is the base weights with the unfrozen modules changed', async () => {
    const { run, epochs } = folder.detail;
    expect(run.status).toBe('completed');
    expect(run.freezeSpec).toBe(FREEZE);
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i));
    for (const e of epochs) expect(e.map50).not.toBeNull();
    const frozenModules = new Set(run.frozenModules);
    expect(frozenModules.size).toBeGreaterThan(0);
    // The checkpoint holds the EMA of the weights: a frozen parameter moves only by the EMA's
    // float32 rounding (about 1e-7 of its scale), a trained one by the optimizer's steps.
    const changes = [...(await relativeChanges(demoWeightsPath(), folder.weights))];
    const isFrozen = (name: string) => frozenModules.has(Number(/^model\.(\d+)\./.exec(name)![1]));
    const frozen = changes.filter(([n]) => isFrozen(n));
    const trained = changes.filter(([n]) => !isFrozen(n));
    const largest = (xs: [string, number][]) => Math.max(...xs.map(([, c]) => c)).toExponential(2);
    const smallest = (xs: [string, number][]) => Math.min(...xs.map(([, c]) => c)).toExponential(2);
    console.log(
      `relative change of ${frozen.length} frozen parameters at most ${largest(frozen)}, ` +
        `of ${trained.length} trained ones at least ${smallest(trained)}`,
    );
    expect(frozen.length).toBeGreaterThan(0);
    expect(trained.length).toBeGreaterThan(0);
    for (const [name, c] of frozen) expect(c, name).toBeLessThan(1e-6);
    for (const [name, c] of trained) expect(c, name).toBeGreaterThan(1e-6);
    // And the predictions differ from the base weights' on the same images.
    const conf = (r: PredictSplitResult) =>
      JSON.stringify(r.images.map((im) => [im.path, im.predictions.map((p) => p.conf)]).sort());
    expect(conf(engine)).not.toBe(conf(baseEngine));
    console.log(`totals: base weights ${JSON.stringify(baseEngine.totals)}, trained ${JSON.stringify(engine.totals)}`);
  });

  it("lists a trained demo run's images disagreements first, with the engine's TP/FP/FN, and exports them as CSV", async () => {
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
    await page.screenshot({ path: '/work/screens/H2-predictions-trained.png', fullPage: true });

    // Another row opens its image.
    await rows.nth(3).click();
    await expect.poll(() => view.getAttribute('data-path')).toBe(engine.images[3]!.path);

    // Only disagreements.
    await page.getByTestId('only-disagreements').check();
    await expect.poll(() => rows.count()).toBe(t.imagesWithDisagreements);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('predictions-csv').click()]);
    const saved = await download.path();
    copyFileSync(saved, '/work/screens/H2-predictions-trained.csv');
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
