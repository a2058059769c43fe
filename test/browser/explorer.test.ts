import { afterAll, beforeAll, expect, it } from 'vitest';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';

describeBrowser('architecture explorer', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serveApp();
  });
  afterAll(() => app?.close());

  it('shows yolov5n with 25 modules, and the backbone preset leaves 825,789 trainable', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await page.locator('#tab-explorer').click();
    await page.getByTestId('builtin-model').selectOption('yolov5n');
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('module-row').count(), { timeout: 30_000 }).toBe(25);
    expect(await page.getByTestId('arch-summary').textContent()).toContain('1,872,157 parameters');
    expect(await page.getByTestId('trainable-params').textContent()).toBe('1,872,157');

    await page.getByTestId('preset-backbone').click();
    await expect.poll(() => page.getByTestId('trainable-params').textContent()).toBe('825,789');
    expect(await page.getByTestId('preset-backbone').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('tr.frozen[data-testid="module-row"]').count()).toBe(10);
    await screenshot(page, 'explorer-backbone');

    // Per-module toggle: unfreezing module 9 (SPPF, 164,608 params) makes it a custom list.
    await page.getByLabel('Freeze module 9 (SPPF)').uncheck();
    await expect.poll(() => page.getByTestId('trainable-params').textContent()).toBe('990,397');
    expect(await page.getByTestId('preset-backbone').getAttribute('aria-pressed')).toBe('false');

    // The depth slider is YOLOv5's --freeze N.
    await page.getByTestId('freeze-depth').fill('24');
    await expect.poll(() => page.getByTestId('trainable-params').textContent()).toBe('115,005');
    expect(await page.getByTestId('preset-all-but-detect').getAttribute('aria-pressed')).toBe('true');

    // Expand a module to its parameter names and shapes.
    await page.getByLabel('Parameters of module 24').click();
    await expect.poll(() => page.getByText('model.24.m.0.weight').count()).toBe(1);
    await screenshot(page, 'explorer-all-but-detect');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('shows a specific error for a model file that does not exist', async () => {
    const page = await app.browser.newPage();
    await page.goto(app.host.url);
    await page.locator('#tab-explorer').click();
    await page.getByLabel('File', { exact: true }).check();
    await page.getByLabel('Model file path').fill('/nope/missing.pt');
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('/nope/missing.pt: no such file');
  });
});
