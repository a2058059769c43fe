import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../src/main/paths.js';
import { createService } from '../../src/main/service/service.js';
import { watchPage } from '../helpers/browser.js';
import { seedRuns, type SeededRun } from '../helpers/seeded-runs.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { tempDir } from '../helpers/service.js';

const SCREENS = '/work/screens';

/** Served mode: paths are picked from the server's disk, and exports are downloaded from the page. */
describeBrowser('files in served mode: the server-side browser and downloads', () => {
  let app: ServedApp;
  let runs: SeededRun[];
  let home: string;
  let dataDir: string;

  beforeAll(async () => {
    home = tempDir('freezelab-home-');
    dataDir = tempDir('freezelab-files-');
    runs = seedRuns(dataDir);
    mkdirSync(path.join(home, 'datasets', 'coco'), { recursive: true });
    writeFileSync(
      path.join(home, 'datasets', 'coco', 'coco.yaml'),
      'path: .\ntrain: images\nval: images\nnames: [a]\n',
    );
    writeFileSync(path.join(home, 'datasets', 'coco', 'README.md'), 'not a YAML');
    mkdirSync(path.join(home, 'weights'));
    writeFileSync(path.join(home, '.profile'), '# hidden');
    symlinkSync('/etc', path.join(home, 'etc-link'));
    const service = createService({
      host: 'web',
      runJobs: false,
      paths: { ...resolveDataPaths({ dataDir }, {}), homeDir: home },
      loadBackend: () => initBackend(),
    });
    app = await serveApp(service);
  });
  afterAll(async () => {
    await app?.close();
    await app?.service.close();
    for (const dir of [home, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("Browse opens the server's file browser; navigating into folders and picking a file fills the field", async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${app.host.url}#/runs`);
    await page.getByTestId('launch-data-browse').click();
    const dialog = page.getByTestId('file-browser');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const entries = dialog.getByTestId('file-browser-entry');
    // Home: folders, no dotfiles, and the link to /etc is neither listed nor followed.
    await expect
      .poll(() => entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-name'))))
      .toEqual(['datasets', 'weights']);
    expect(await dialog.getByTestId('file-browser-note').textContent()).toContain('1 link leading outside');
    await page.screenshot({ path: path.join(SCREENS, 'F-file-browser-home.png') });
    await entries.filter({ hasText: 'datasets' }).click();
    await expect
      .poll(() => dialog.getByTestId('file-browser-dir').getAttribute('data-dir'))
      .toBe(path.join(home, 'datasets'));
    await entries.filter({ hasText: 'coco' }).click();
    // Only .yaml/.yml files are offered for a dataset YAML.
    await expect
      .poll(() => entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-name'))))
      .toEqual(['coco.yaml']);
    expect(await dialog.getByTestId('file-browser-ok').isDisabled()).toBe(true);
    await entries.filter({ hasText: 'coco.yaml' }).click();
    await expect
      .poll(() => dialog.getByTestId('file-browser-result').textContent())
      .toBe(path.join(home, 'datasets', 'coco', 'coco.yaml'));
    await page.screenshot({ path: path.join(SCREENS, 'F-file-browser.png') });
    await dialog.getByTestId('file-browser-ok').click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await page.getByTestId('launch-data').inputValue()).toBe(path.join(home, 'datasets', 'coco', 'coco.yaml'));

    // Browse again starts in the picked file's folder; the breadcrumb goes back up; Cancel keeps the value.
    await page.getByTestId('launch-data-browse').click();
    await expect
      .poll(() => dialog.getByTestId('file-browser-dir').getAttribute('data-dir'))
      .toBe(path.join(home, 'datasets', 'coco'));
    await dialog.getByTestId('file-browser-dir').getByRole('button', { name: 'Home' }).click();
    await expect.poll(() => dialog.getByTestId('file-browser-dir').getAttribute('data-dir')).toBe(home);
    await dialog.getByTestId('file-browser-cancel').click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await page.getByTestId('launch-data').inputValue()).toBe(path.join(home, 'datasets', 'coco', 'coco.yaml'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('in Electron, Browse asks the native dialog (the preload) and takes its answer', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    // The preload's API, as Electron's contextBridge exposes it: commands over HTTP here, and a
    // native dialog that records what it was asked for and answers a fixed path.
    await page.addInitScript((token: string) => {
      const asked: unknown[] = [];
      Object.assign(window, {
        __asked: asked,
        freezelab: {
          invoke: async (name: string, input: unknown) => {
            const res = await fetch(`./api/command/${name}`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'X-FreezeLab-Token': token },
              body: JSON.stringify(input ?? {}),
            });
            return res.json();
          },
          onEvent: () => () => {},
          pickPath: async (request: unknown) => {
            asked.push(request);
            return '/picked/weights/best.pt';
          },
          showInFolder: async () => {},
        },
      });
    }, app.host.token);
    await page.goto(`${app.host.url}#/runs`);
    await page.getByTestId('launch-weights').fill('~/old.pt');
    await page.getByTestId('launch-weights-browse').click();
    await expect.poll(() => page.getByTestId('launch-weights').inputValue()).toBe('/picked/weights/best.pt');
    expect(await page.getByTestId('file-browser').count()).toBe(0); // no server-side browser in Electron
    expect(await page.evaluate(() => (window as unknown as { __asked: unknown[] }).__asked)).toEqual([
      { mode: 'open-file', title: 'Weights', extensions: ['pt', 'safetensors'], defaultPath: '~/old.pt' },
    ]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('exports a run from its detail and downloads each file: the bytes are the files written', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    const run = runs[0]!;
    await page.goto(`${app.host.url}#/runs/${run.id}`);
    const exporter = page.getByTestId('run-export');
    // The folder defaults to a new one in the data folder's exports.
    await expect
      .poll(() => exporter.getByTestId('export-dir').inputValue())
      .toMatch(
        new RegExp(`^${path.join(dataDir, 'exports', `run-${run.id}-`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
    await exporter.getByTestId('export-run').click();
    const links = exporter.getByTestId('export-file');
    await expect.poll(() => links.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    const count = await links.count();
    for (let i = 0; i < count; i++) {
      const link = links.nth(i);
      const file = (await link.getAttribute('title'))!;
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe(path.basename(file));
      const saved = await download.path();
      expect(readFileSync(saved).equals(readFileSync(file)), file).toBe(true);
    }
    expect(count).toBeGreaterThanOrEqual(2); // metrics CSV and JSON at least
    await page.screenshot({ path: path.join(SCREENS, 'F-export-downloads.png'), fullPage: true });

    // A second export into the same folder is refused (an export never overwrites), with the service's words.
    await exporter.getByTestId('export-run').click();
    await expect.poll(() => exporter.getByRole('alert').textContent()).toContain('not empty');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('~ typed in the page is the server home; files outside runs/exports show their path, not a link', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    const run = runs[1]!;
    await page.goto(`${app.host.url}#/runs/${run.id}`);
    const exporter = page.getByTestId('run-export');
    await expect.poll(() => exporter.getByTestId('export-dir').inputValue()).not.toBe('');
    await exporter.getByTestId('export-dir').fill('~/my-export');
    await exporter.getByTestId('export-run').click();
    const files = exporter.getByTestId('export-file');
    await expect.poll(() => files.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    const shown = await files.allTextContents();
    for (const file of shown) {
      expect(file.startsWith(path.join(home, 'my-export') + path.sep)).toBe(true);
      expect(readFileSync(file).length).toBeGreaterThan(0);
    }
    expect(await exporter.locator('a[download]').count()).toBe(0);
    expect(await exporter.getByTestId('export-files').textContent()).toContain('can be downloaded');
    expect(errors).toEqual([]);
    await page.close();
  });
});
