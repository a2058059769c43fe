/**
 * Compare with groups (issue 13), on runs seeded in a database (no training): runs of two datasets
 * form two sets, never one frontier; repeats give one point per group with error bars and the
 * service's mean ± sd; the tolerance, the saving and the metric drive the recommendation, whose
 * rule is displayed; `freezelab compare --json` gives the UI's groups and recommendation.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/main/cli/cli.js';
import { cliCommands } from '../../src/main/cli/commands/index.js';
import { initBackend } from '../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../src/main/paths.js';
import { createService } from '../../src/main/service/service.js';
import { createRun, openStore, recordEpoch, setRunStatus } from '../../src/main/store/index.js';
import { paretoFrontier, statsOf } from '../../src/shared/compare.js';
import type { ComparisonResult } from '../../src/shared/contract.js';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { tempDir } from '../helpers/service.js';
import { makeTinyDataset } from '../helpers/tiny-dataset.js';
import { seedComparisonRuns, SPECS, type SeededCompareRun } from '../unit/compare/seeded.js';
import { epoch, newRun } from '../unit/store/fixtures.js';

const squeeze = (t: string | null) => (t ?? '').replace(/\s+/g, ' ').trim();

describeBrowser('compare: sets, groups of repeats and the recommendation', () => {
  let app: ServedApp;
  let dataDir: string;
  let runs: SeededCompareRun[];
  /** A run still training (this process is its pid), one epoch recorded. */
  let runningId: number;
  const idsOf = (set: SeededCompareRun['set']) => runs.filter((r) => r.set === set).map((r) => r.id);

  beforeAll(async () => {
    dataDir = tempDir('freezelab-compare-groups-');
    runs = seedComparisonRuns(path.join(dataDir, 'freezelab.db'));
    const db = openStore(path.join(dataDir, 'freezelab.db'));
    try {
      runningId = createRun(db, newRun({ name: 'still training', epochs: 5 })).id;
      setRunStatus(db, runningId, 'running', { pid: process.pid });
      recordEpoch(db, runningId, epoch(0, { peakTensorBytes: 250_000_000, peakRssBytes: 900_000_000 }));
    } finally {
      db.close();
    }
    const service = createService({
      host: 'web',
      runJobs: false,
      paths: resolveDataPaths({ dataDir }, {}),
      loadBackend: () => initBackend(),
    });
    app = await serveApp(service);
  });
  // Each page keeps an event stream open, and Chromium allows 6 connections per host: close them.
  const pages: Page[] = [];
  const newPage = async () => {
    const page = await app.browser.newPage();
    pages.push(page);
    return page;
  };
  afterEach(async () => {
    await Promise.all(pages.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await app?.close();
    await app?.service.close?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function compareTicked(page: Page, ids: readonly number[]): Promise<void> {
    await page.goto(`${app.host.url}#/runs`);
    for (const id of ids) {
      await page.locator(`[data-testid="run-row"][data-run-id="${id}"] input[type="checkbox"]`).check();
    }
    await page.getByTestId('compare-selected').click();
    await expect.poll(() => page.getByTestId('compare-row').count(), { timeout: 30_000 }).toBe(ids.length);
  }

  const service = async (ids: readonly number[], extra: Record<string, unknown> = {}) => {
    const r = await app.service.call('runs.compare', { ids: [...ids], ...extra });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };

  it('demo runs mixed with coco128 runs give two sets, each with its own frontier, never one', async () => {
    const page = await newPage();
    const { errors } = watchPage(page);
    const ids = [...idsOf('demo'), ...idsOf('coco128')];
    await compareTicked(page, ids);
    const sets = page.getByTestId('compare-set');
    await expect.poll(() => sets.count()).toBe(2);
    expect(squeeze(await page.getByTestId('sets-note').textContent())).toContain(
      '2 sets that cannot be compared with each other: the runs differ in dataset',
    );
    expect((await page.getByTestId('set-title').allTextContents()).map(squeeze)).toEqual([
      'Set 1 of 2: data.yaml (dededede)',
      'Set 2 of 2: coco128.yaml (c0c0c0c0)',
    ]);
    const c = await service(ids);
    // The coco128 runs are dominated across datasets (more memory, less accuracy) but are on
    // their own set's frontier: the page shows the per-set frontiers.
    const acrossSets = paretoFrontier(
      c.rows.map((r) => ({ id: r.runId, x: r.peakTensorBytes!, y: r.bestMap50_95! })),
      { x: 'min', y: 'max' },
    ).map((p) => p.id);
    expect(acrossSets.some((id) => idsOf('coco128').includes(id))).toBe(false);
    expect(c.memoryFrontier).toEqual(expect.arrayContaining(idsOf('coco128')));
    expect(await page.getByTestId('frontier-ids').textContent()).toBe(
      c.memoryFrontier.map((id) => `#${id}`).join(', '),
    );
    for (const [i, set] of c.sets.entries()) {
      const chart = sets.nth(i).getByTestId('chart-acc-memory');
      // Drawn: one point per group, the set's frontier line, the recommended star.
      await expect
        .poll(() => chart.getAttribute('data-drawn-points'))
        .toBe(String(set.groupIds.length + set.memoryFrontier.length + 1));
      expect(await sets.nth(i).getByTestId('group-row').count()).toBe(set.groupIds.length);
      expect(squeeze(await sets.nth(i).getByTestId('recommendation-line').textContent())).toBe(set.recommendation.line);
    }
    // One seed each: Compare says so, and that the groups cannot be told apart.
    expect(await page.getByTestId('single-seed-note').count()).toBe(2);
    expect(await sets.nth(0).getByTestId('noise').textContent()).toBe(
      'backbone, none and all but Detect cannot be told apart with 1 seed; add repeats.',
    );
    // The config table marks the field that splits the sets.
    const differs = page.locator('[data-testid="config-diff"] th[data-differs="true"]');
    expect(await differs.allTextContents()).toEqual(['dataset', 'freeze']);
    await expect.poll(() => page.getByTestId('chart-compare-map').getAttribute('data-drawn-points')).toBe('15');
    await screenshot(page, 'compare-two-sets');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('2 presets x 2 seeds: 2 points with error bars, mean ± sd as the service computes from the rows', async () => {
    const page = await newPage();
    const { errors } = watchPage(page);
    const ids = idsOf('repeats');
    await compareTicked(page, ids);
    await expect.poll(() => page.getByTestId('compare-point-count').textContent()).toBe('2');
    const c = await service(ids);
    expect(c.sets).toHaveLength(1);
    // Memory is the same over the seeds (no x bar); accuracy (y) varies: one bar per point. On the
    // time chart the seconds vary too: two bars per point.
    await expect.poll(() => page.getByTestId('chart-acc-memory').getAttribute('data-error-bars')).toBe('2');
    await expect.poll(() => page.getByTestId('chart-acc-time').getAttribute('data-error-bars')).toBe('4');
    await expect.poll(() => page.getByTestId('chart-acc-memory').getAttribute('data-points')).toBe('2');
    expect(await page.getByTestId('single-seed-note').count()).toBe(0);
    const f3 = (v: number) => v.toFixed(3);
    for (const freeze of ['none', 'backbone'] as const) {
      const rows = c.rows.filter((r) => r.freezeSpec === freeze);
      expect(rows).toHaveLength(2);
      const s95 = statsOf(rows.map((r) => r.bestMap50_95))!;
      const s50 = statsOf(rows.map((r) => r.bestMap50))!;
      const group = c.groups.find((g) => g.freezeSpec === freeze)!;
      expect(group.runIds).toEqual(rows.map((r) => r.runId));
      expect(group.mean.bestMap50_95).toBeCloseTo(s95.mean, 12);
      expect(group.sd.bestMap50_95).toBeCloseTo(s95.sd!, 12);
      const row = page.locator(`[data-testid="group-row"][data-group-id="${group.id}"]`);
      expect(await row.getByTestId('group-n').textContent()).toBe('2');
      expect(await row.getByTestId('group-map50_95').textContent()).toBe(`${f3(s95.mean)} ± ${f3(s95.sd!)}`);
      expect(await row.getByTestId('group-map50').textContent()).toBe(`${f3(s50.mean)} ± ${f3(s50.sd!)}`);
    }
    // 4 runs x 3 epochs drawn before the picture is taken (charts redraw after the data changed).
    await expect.poll(() => page.getByTestId('chart-compare-map').getAttribute('data-drawn-points')).toBe('12');
    await screenshot(page, 'compare-repeats');

    // The grouped CSV is the service's, with the rule on each line.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-groups-csv').click()]);
    expect(readFileSync((await csv.path())!, 'utf8')).toBe(c.groupsCsv);
    // The one-page report holds the recommendation, the rule and both charts.
    const [report] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-report').click()]);
    const html = readFileSync((await report.path())!, 'utf8');
    expect(html).toContain(c.recommendation.line.replace(/'/g, '&#39;'));
    expect(html).toContain(c.recommendation.rule.replace(/'/g, '&#39;'));
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(2);
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('the tolerance and the saving change the recommendation; the rule is displayed', async () => {
    const page = await newPage();
    const { errors } = watchPage(page);
    const ids = idsOf('demo');
    await compareTicked(page, ids);
    const label = async (c: ComparisonResult) => c.groups.find((g) => g.id === c.recommendation.groupId)!.label;
    const shown = () => page.getByTestId('recommendation-line').textContent();
    const rule = () => page.getByTestId('rule').textContent();

    const byDefault = await service(ids);
    expect(await label(byDefault)).toBe('backbone');
    await expect.poll(shown).toBe(byDefault.recommendation.line);
    await expect
      .poll(() => page.getByTestId('chart-acc-memory').getAttribute('data-labels'))
      .toBe('none | all but Detect | ★ backbone: recommended');
    expect(squeeze(await rule())).toBe(`Rule: ${byDefault.recommendation.rule}`);
    expect(await rule()).toContain('at most 0.010 below');

    await page.getByTestId('tolerance').fill('0.1');
    const wide = await service(ids, { tolerance: 0.1 });
    expect(await label(wide)).toBe('all but Detect');
    await expect.poll(shown).toBe(wide.recommendation.line);
    await expect.poll(rule).toContain('at most 0.100 below');
    // The star moves: the chart draws it, labelled, on the recommended group.
    expect(await page.getByTestId('recommendation').getAttribute('data-group-id')).toBe(
      String(wide.recommendation.groupId),
    );
    await expect
      .poll(() => page.getByTestId('chart-acc-memory').getAttribute('data-labels'))
      .toBe('none | backbone | ★ all but Detect: recommended');
    await expect.poll(() => page.getByTestId('chart-compare-map').getAttribute('data-drawn-points')).toBe('9');
    await screenshot(page, 'compare-tolerance');

    await page.getByTestId('tolerance').fill('0');
    const strict = await service(ids, { tolerance: 0 });
    expect(await label(strict)).toBe('none');
    await expect.poll(shown).toBe(strict.recommendation.line);

    // What to save: the rule names it.
    await page.getByTestId('save-memory').click();
    await expect.poll(rule).toContain('the lowest mean peak memory');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('the metric switch changes the recommendation’s metric; the CLI gives the UI’s groups and recommendation', async () => {
    const page = await newPage();
    const { errors } = watchPage(page);
    const ids = idsOf('demo');
    await compareTicked(page, ids);
    await page.getByTestId('metric-map50').click();
    const by50 = await service(ids, { metric: 'map50' });
    expect(by50.recommendation.metric).toBe('map50');
    await expect.poll(() => page.getByTestId('recommendation-line').textContent()).toBe(by50.recommendation.line);
    expect(by50.recommendation.line).toContain('mAP50 ');
    expect(by50.recommendation.line).not.toContain('mAP50-95');
    expect(await page.getByTestId('rule').textContent()).toContain('mean best mAP50 is');
    // By mAP50, backbone is the most accurate group.
    const backbone = SPECS.find((s) => s.set === 'demo' && s.freeze === 'backbone')!;
    expect(by50.groups.find((g) => g.id === by50.recommendation.bestGroupId)?.mean.bestMap50).toBeCloseTo(
      backbone.map50,
      12,
    );

    // The CLI over the same database: the same groups and recommendation as the page shows.
    let out = '';
    const code = await runCli(
      ['compare', '--db', path.join(dataDir, 'freezelab.db'), '--json', '--metric', 'map50', ...ids.map(String)],
      cliCommands,
      { out: (t) => void (out += t), err: () => undefined, env: {} },
    );
    expect(code).toBe(0);
    const cli = JSON.parse(out) as ComparisonResult;
    expect(cli.groups.map((g) => [g.runIds, g.n, g.mean, g.sd])).toEqual(
      by50.groups.map((g) => [g.runIds, g.n, g.mean, g.sd]),
    );
    expect(cli.recommendation).toEqual(by50.recommendation);
    expect(await page.getByTestId('group-label').allTextContents()).toEqual(cli.groups.map((g) => g.label));
    await screenshot(page, 'compare-map50');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('one memory figure: the live panel, the runs table and the Explorer show the headline figure Compare shows', async () => {
    const page = await newPage();
    const { errors } = watchPage(page);
    const [live] = (await service([runningId])).rows;
    expect(live).toMatchObject({ peakMemoryBytes: 250_000_000, peakMemoryKind: 'tensor' });
    await page.goto(`${app.host.url}#/runs/${runningId}`);
    await expect
      .poll(() => page.getByTestId('live-peak-memory').textContent(), { timeout: 30_000 })
      .toBe('peak 250 MB in-step tensors');

    // The runs table: the same figure for every run, the running one included.
    await page.goto(`${app.host.url}#/runs`);
    const memoryOf = (id: number) =>
      page.locator(`[data-testid="run-row"][data-run-id="${id}"]`).getByTestId('run-memory').textContent();
    await expect.poll(async () => squeeze(await memoryOf(runningId))).toBe('250 MB in-step tensors');
    const all = await service(runs.map((r) => r.id));
    for (const row of all.rows) {
      expect(squeeze(await memoryOf(row.runId))).toBe(`${Math.round(row.peakMemoryBytes! / 1e6)} MB in-step tensors`);
    }

    // The Explorer's estimate for yolov5n, backbone frozen, batch 8 at 320 px sits beside the
    // measured peak of the latest completed run of that choice.
    const backbone = runs.filter((r) => r.freeze === 'backbone').map((r) => r.id);
    const latest = Math.max(...backbone);
    const [row] = (await service([latest])).rows;
    await page.goto(`${app.host.url}#/explorer`);
    await page.getByTestId('builtin-model').selectOption('yolov5n');
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('module-row').count(), { timeout: 30_000 }).toBe(25);
    await page.getByTestId('preset-backbone').click();
    await page.getByLabel('Batch size').fill('8');
    await page.getByLabel('Training image size').fill('320');
    await expect
      .poll(() => page.getByTestId('memory-measured').textContent(), { timeout: 30_000 })
      .toContain(`measured: ${Math.round(row!.peakMemoryBytes! / 1e6)} MB peak (in-step tensors) in run #${latest}`);
    expect(await page.getByTestId('memory-estimate').isVisible()).toBe(true);
    await screenshot(page, 'explorer-measured');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  // Last: the runs it queues stay queued (this service runs no jobs) and would show in the lists above.
  it('repeats in the launcher queue each configuration once per seed', async () => {
    const page = await newPage();
    const { errors } = watchPage(page);
    const dataset = await makeTinyDataset({ train: 2, val: 1, size: 64, classes: 2 });
    try {
      await page.goto(`${app.host.url}#/runs`);
      await page.getByTestId('launch-data').fill(dataset.yaml);
      await page.getByTestId('check-data').click();
      await expect.poll(() => page.getByTestId('dataset-report').isVisible(), { timeout: 30_000 }).toBe(true);
      await page.getByTestId('launch-model').selectOption('n');
      await page.getByTestId('confirm-untrained').check();
      expect(await page.getByTestId('start-sweep').textContent()).toBe('Run sweep (3 runs)');
      await page.getByTestId('launch-repeats').fill('2');
      await expect.poll(() => page.getByTestId('start-sweep').textContent()).toBe('Run sweep (6 runs)');
      await page.getByTestId('start-sweep').click();
      const queued = async () => {
        const list = await app.service.call('runs.list', {});
        return list.ok ? list.value.filter((s) => s.run.datasetPath === dataset.yaml).map((s) => s.run) : [];
      };
      await expect.poll(async () => (await queued()).length, { timeout: 30_000 }).toBe(6);
      const configs = (await queued())
        .map((r) => `${r.freezeSpec} seed ${r.seed}`)
        .sort()
        .join(', ');
      expect(configs).toBe(
        'all-but-detect seed 0, all-but-detect seed 1, backbone seed 0, backbone seed 1, none seed 0, none seed 1',
      );
      expect(errors, errors.join('\n')).toEqual([]);
    } finally {
      rmSync(dataset.root, { recursive: true, force: true });
    }
  });
});
