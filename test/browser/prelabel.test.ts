/**
 * The pre-label view: start a job on a few coco128 images with yolov5n.pt, see its progress,
 * the summary and annotated previews; the label files are on disk. Screenshots are looked at.
 */
import { mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { describeShared, shared } from '../helpers/shared.js';
import { tempDir } from '../helpers/service.js';

const IMAGES = 12;

describeShared('pre-label view', () => {
  describeBrowser('a pre-label job in the app', () => {
    let app: ServedApp;
    let dir: string;
    let source: string;

    beforeAll(async () => {
      dir = tempDir('freezelab-prelabel-ui-');
      // A folder of new images: links to a few coco128 images (the shared data is not copied).
      source = path.join(dir, 'new-batch');
      mkdirSync(source);
      const from = shared('data', 'coco128', 'images', 'train2017');
      for (const f of readdirSync(from).sort().slice(0, IMAGES)) symlinkSync(path.join(from, f), path.join(source, f));
      app = await serveApp();
    });
    afterAll(async () => {
      await app?.close();
      await app?.service.close?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('starts a job on a folder, shows progress, the summary and annotated images', async () => {
      const page = await app.browser.newPage();
      const { errors } = watchPage(page);
      await page.goto(app.host.url);
      await page.locator('#tab-prelabel').click();
      await expect.poll(() => page.getByTestId('prelabel-form').isVisible()).toBe(true);
      // No runs yet: the weights come from a file.
      await expect.poll(() => page.getByTestId('weights-from-path').isChecked()).toBe(true);
      expect(await page.getByTestId('prelabel-start').isDisabled()).toBe(true);
      expect(await page.getByTestId('prelabel-blocker').textContent()).toMatch(/weights file/);
      await page.getByTestId('prelabel-weights').fill(shared('weights', 'yolov5n.pt'));
      await page.getByTestId('prelabel-source').fill(source);
      const out = path.join(dir, 'labelled');
      await page.getByTestId('prelabel-out').fill(out);
      await page.getByTestId('prelabel-save-conf').check();
      await page.getByTestId('prelabel-start').click();

      await expect.poll(() => page.getByTestId('job-progress').isVisible()).toBe(true);
      expect(await page.getByTestId('job-progress').textContent()).toContain(`Pre-labelling ${IMAGES} images in`);
      // While it runs: the bar, the count and Cancel (unless the job is over before the first image shows).
      await expect
        .poll(
          async () => {
            const status = await page.getByTestId('job-progress').getAttribute('data-status');
            return status !== 'running' || !(await page.getByTestId('job-count').textContent())?.startsWith('0 /');
          },
          { timeout: 60_000 },
        )
        .toBe(true);
      if ((await page.getByTestId('job-progress').getAttribute('data-status')) === 'running') {
        expect(await page.getByTestId('job-cancel').isVisible()).toBe(true);
        await screenshot(page, 'prelabel-running');
      }
      await expect
        .poll(() => page.getByTestId('job-progress').getAttribute('data-status'), { timeout: 120_000 })
        .toBe('completed');
      expect(await page.getByTestId('job-count').textContent()).toContain(`${IMAGES} / ${IMAGES} (100%)`);
      expect(await page.getByTestId('job-cancel').count()).toBe(0);
      await expect.poll(() => page.getByTestId('prelabel-summary').isVisible()).toBe(true);
      expect(await page.getByTestId('sum-images').textContent()).toBe(`${IMAGES} of ${IMAGES}`);
      expect(Number(await page.getByTestId('sum-detections').textContent())).toBeGreaterThan(IMAGES);
      expect(await page.getByTestId('sum-labels').textContent()).toContain(`${IMAGES} label files in`);
      await expect
        .poll(() => page.locator('[data-testid="prelabel-previews"] img').count(), { timeout: 30_000 })
        .toBe(6);
      expect(readdirSync(path.join(out, 'labels'))).toHaveLength(IMAGES);
      await screenshot(page, 'prelabel-done');

      // Again on the same folder: every image already has its label file, nothing is replaced.
      await page.getByTestId('prelabel-start').click();
      await expect.poll(() => page.getByTestId('sum-skipped').textContent(), { timeout: 60_000 }).toBe(String(IMAGES));
      expect(await page.getByTestId('sum-labels').textContent()).toContain('0 label files in');
      await page.getByTestId('sum-skips').locator('summary').click();
      expect(await page.getByTestId('sum-skips').textContent()).toMatch(/already done: .*exists/);
      await screenshot(page, 'prelabel-skipped');
      expect(errors, errors.join('\n')).toEqual([]);
    }, 240_000);
  });
});
