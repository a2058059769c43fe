import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppInfo } from '../../src/shared/contract.js';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';

describeBrowser('served app in Chromium', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serveApp();
  });
  afterAll(() => app?.close());

  it('shows app.info from the real service, with the backend that loaded', async () => {
    const expected = await app.service.call('app.info', {});
    if (!expected.ok) throw new Error(expected.error.message);
    const info: AppInfo = expected.value;

    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await expect
      .poll(() => page.getByTestId('app-backend').textContent(), { timeout: 30_000 })
      .toContain(info.backend.name);
    expect(await page.getByTestId('app-version').textContent()).toContain(info.version);
    expect(await page.getByTestId('app-db').textContent()).toBe(info.databasePath);
    for (const attempt of info.backend.attempts.filter((a) => !a.ok)) {
      expect(await page.getByTestId('app-info').textContent()).toContain(attempt.reason);
    }
    // Keyboard navigation between sections.
    await page.getByRole('tab', { name: 'Explorer' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Runs' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    await page.getByTestId('about-toggle').click();
    await expect.poll(() => page.getByTestId('app-info').isVisible()).toBe(true);
    await screenshot(page, 'app-info');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('the same page without the token is refused', async () => {
    await app.browser.clearCookies(); // the first test's page was given the token cookie
    const page = await app.browser.newPage();
    const response = await page.goto(app.host.url.replace(/\?token=.*/, ''));
    expect(response?.status()).toBe(401);
  });
});
