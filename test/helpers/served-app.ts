/** The built renderer served by a real web host over a real service, with a browser on it. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { describe } from 'vitest';
import { rendererDir } from '../../src/main/cli/commands/serve.js';
import type { Service } from '../../src/main/service/service.js';
import { startWebHost, type WebHost } from '../../src/main/web/server.js';
import { chromiumAvailable, launchBrowser } from './browser.js';
import { testService } from './service.js';

const built = existsSync(path.join(rendererDir, 'index.html'));
if (!built && process.env.CI === 'true') throw new Error('CI=true but the renderer is not built: run npm run build.');

/** `describe` for browser tests: skips, saying why, without Chromium or a built renderer. */
export const describeBrowser: typeof describe =
  chromiumAvailable && built ? describe : (describe.skip as typeof describe);
if (!chromiumAvailable || !built) {
  console.warn(`browser tests skipped: ${!chromiumAvailable ? 'no Chromium' : 'renderer not built (npm run build)'}`);
}

export interface ServedApp {
  service: Service;
  host: WebHost;
  browser: BrowserContext;
  close(): Promise<void>;
}

export async function serveApp(service: Service = testService('web')): Promise<ServedApp> {
  const host = await startWebHost({ service, port: 0, staticDir: rendererDir });
  const browser = await launchBrowser();
  return {
    service,
    host,
    browser,
    close: async () => {
      await browser.close();
      await host.close();
    },
  };
}
