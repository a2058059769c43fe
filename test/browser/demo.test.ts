import { afterAll, beforeAll, expect, it } from 'vitest';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';

/**
 * The built-in demo end to end, as a new user meets it: a fresh database opens on Runs, one click
 * generates the demo data and runs the three-preset sweep from the shipped base weights, and the
 * Compare section shows one point per run with the frontier. (Takes a few minutes on 2 cores.)
 */
describeBrowser('built-in demo', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serveApp();
  });
  afterAll(() => app?.close());

  it('one click runs the demo sweep and fills the compare view', { timeout: 900_000 }, async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    // A first launch opens on Runs, with the demo one click away.
    await expect.poll(() => page.locator('#tab-runs').getAttribute('aria-selected'), { timeout: 30_000 }).toBe('true');
    await page.getByTestId('demo-start').click();
    await expect.poll(() => page.getByTestId('run-row').count(), { timeout: 120_000 }).toBe(3);
    await screenshot(page, 'demo-running');
    await expect
      .poll(
        async () => (await page.getByTestId('run-status').allTextContents()).filter((s) => s === 'completed').length,
        {
          timeout: 840_000,
          interval: 2_000,
        },
      )
      .toBe(3);
    await page.locator('#tab-compare').click();
    await expect.poll(() => page.getByTestId('compare-point-count').textContent(), { timeout: 60_000 }).toBe('3');
    expect(await page.getByTestId('frontier-ids').textContent()).toMatch(/^#\d+(, #\d+)*$/);
    // mAP per epoch of every run (3 runs x 8 epochs) is drawn before the picture is taken.
    await expect
      .poll(() => page.getByTestId('chart-compare-map').getAttribute('data-drawn-points'), { timeout: 60_000 })
      .toBe('24');
    await screenshot(page, 'demo-compare');
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
