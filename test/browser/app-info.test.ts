import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rendererDir } from '../../src/main/cli/commands/serve.js';
import { startWebHost, type WebHost } from '../../src/main/web/server.js';
import type { AppInfo } from '../../src/shared/contract.js';
import { chromiumAvailable, launchBrowser, screenshot, watchPage } from '../helpers/browser.js';
import { testService } from '../helpers/service.js';

const built = existsSync(path.join(rendererDir, 'index.html'));
if (!built && process.env.CI === 'true') throw new Error('CI=true but the renderer is not built: run npm run build.');
const describeBrowser = chromiumAvailable && built ? describe : describe.skip;

describeBrowser('served app in Chromium', () => {
  const service = testService('web');
  let host: WebHost;
  let browser: BrowserContext;

  beforeAll(async () => {
    host = await startWebHost({ service, port: 0, staticDir: rendererDir });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('shows app.info from the real service, with the backend that loaded', async () => {
    const expected = await service.call('app.info', {});
    if (!expected.ok) throw new Error(expected.error.message);
    const info: AppInfo = expected.value;

    const page = await browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(host.url);
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
    await screenshot(page, 'app-info');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('the same page without the token is refused', async () => {
    await browser.clearCookies(); // the first test's page was given the token cookie
    const page = await browser.newPage();
    const response = await page.goto(host.url.replace(/\?token=.*/, ''));
    expect(response?.status()).toBe(401);
  });
});
