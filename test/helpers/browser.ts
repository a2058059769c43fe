/**
 * Headless Debian Chromium driven by playwright-core, for browser tests against the web host.
 * Screenshots go to artifacts/screenshots/ (kept by CI, looked at by people).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from './service.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
export const screenshotDir = path.resolve(new URL('../../artifacts/screenshots', import.meta.url).pathname);

if (!chromiumAvailable && process.env.CI === 'true') {
  throw new Error(`CI=true but Chromium is missing at ${CHROMIUM} (.ci/run installs the Debian package).`);
}

export async function launchBrowser(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('freezelab-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Collects console errors and failed requests so a test can assert a clean page. */
export function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { errors };
}
