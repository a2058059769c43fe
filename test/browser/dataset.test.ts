/** The dataset browser on coco128, served: boxes per image, the large view, class filters. */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { screenshot, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import { tempDir } from '../helpers/service.js';
import { sharedAvailable, shared } from '../helpers/shared.js';

const coco = shared('data', 'coco128');
function labelRows(stem: string): string[] {
  const f = path.join(coco, 'labels', 'train2017', `${stem}.txt`);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
}

// Needs ../shared (coco128): skipped without it, like describeShared.
(sharedAvailable ? describeBrowser : describeBrowser.skip)('dataset browser (coco128)', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serveApp();
  });
  afterAll(() => app?.close());

  it('shows a known image with exactly its boxes, opens it large at file:line, and filters by class', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await page.locator('#tab-dataset').click();
    await page.getByTestId('dataset-yaml').fill(path.join(coco, 'coco128.yaml'));
    await page.getByTestId('dataset-open').click();
    await expect
      .poll(() => page.getByTestId('dataset-total').textContent(), { timeout: 30_000 })
      .toContain('128 of 128 images');

    // 000000000009.jpg: one SVG rect per label row, and the count shown under it.
    const rows9 = labelRows('000000000009');
    expect(rows9.length).toBeGreaterThan(3);
    const nine = page.locator('[data-testid="grid-item"][data-name="000000000009.jpg"]');
    await expect.poll(() => nine.locator('rect[data-testid="box"]').count()).toBe(rows9.length);
    expect(await nine.getByTestId('box-count').textContent()).toBe(String(rows9.length));
    const classes9 = rows9.map((l) => l.split(/\s+/)[0]).sort();
    const drawn9 = await nine
      .locator('rect[data-testid="box"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-cls')));
    expect(drawn9.sort()).toEqual(classes9);
    // thumbnails arrive (the <image> of a box overlay)
    await expect.poll(() => nine.locator('image').count(), { timeout: 30_000 }).toBe(1);
    // every image in view shows as many boxes as its label file has rows
    await expect
      .poll(() => page.locator('[data-testid="grid-item"] image').count(), { timeout: 30_000 })
      .toBeGreaterThan(8);
    const shown = await page
      .getByTestId('grid-item')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-name')!, e.querySelectorAll('rect[data-testid="box"]').length] as const),
      );
    expect(shown.length).toBeGreaterThan(8);
    expect(shown.length).toBeLessThan(128); // virtualised: not every image is in the DOM
    for (const [name, n] of shown) expect(n, name).toBe(labelRows(name.replace(/\.jpg$/, '')).length);
    await screenshot(page, 'dataset-grid');

    // Large view: the label rows with file:line; Escape closes.
    await nine.click();
    const dialog = page.getByTestId('image-dialog');
    await expect.poll(() => dialog.getByTestId('label-row').count()).toBe(rows9.length);
    await expect.poll(() => dialog.locator('[data-testid="large-image"] image').count(), { timeout: 30_000 }).toBe(1);
    expect(await dialog.locator('[data-testid="large-image"] rect[data-testid="box"]').count()).toBe(rows9.length);
    const where = await dialog
      .locator('td.where')
      .evaluateAll((els) => els.map((e) => [e.textContent, e.getAttribute('title')]));
    expect(where).toEqual(
      rows9.map((_, i) => [`000000000009.txt:${i + 1}`, `labels/train2017/000000000009.txt:${i + 1}`]),
    );
    expect(await dialog.getByTestId('label-file').textContent()).toContain('labels/train2017/000000000009.txt');
    await screenshot(page, 'dataset-large');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);

    // Filter by class 2 (car): the total is the number of label files with a car, and every
    // image shown has a car box.
    const stems = readdirSync(path.join(coco, 'images', 'train2017')).map((f) => f.replace(/\.jpg$/, ''));
    const cars = stems.filter((s) => labelRows(s).some((l) => l.split(/\s+/)[0] === '2'));
    await page.getByTestId('filter-class').selectOption('2');
    await expect.poll(() => page.getByTestId('dataset-total').textContent()).toContain(`${cars.length} of 128 images`);
    await expect.poll(() => page.getByTestId('grid-item').count()).toBe(Math.min(cars.length, 200));
    const names = await page
      .getByTestId('grid-item')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-name')!, e.querySelectorAll('rect[data-cls="2"]').length] as const),
      );
    for (const [name, n] of names) {
      expect(cars, name).toContain(name.replace(/\.jpg$/, ''));
      expect(n, name).toBeGreaterThan(0);
    }

    // Clicking a histogram bar filters by its class (class 0, person), clicking again clears.
    const persons = stems.filter((s) => labelRows(s).some((l) => l.split(/\s+/)[0] === '0'));
    await page.locator('[data-testid="histogram-bar"][data-cls="0"]').click();
    await expect
      .poll(() => page.getByTestId('dataset-total').textContent())
      .toContain(`${persons.length} of 128 images`);
    const visible = await page
      .getByTestId('grid-item')
      .evaluateAll((els) => els.map((e) => e.querySelectorAll('rect[data-cls="0"]').length));
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((n) => n > 0)).toBe(true);
    await screenshot(page, 'dataset-filter-person');
    await page.locator('[data-testid="histogram-bar"][data-cls="0"]').click();
    await expect.poll(() => page.getByTestId('dataset-total').textContent()).toContain('128 of 128 images');

    // Background only: coco128's two images without labels.
    await page.getByTestId('filter-background').check();
    await expect.poll(() => page.getByTestId('dataset-total').textContent()).toContain('2 of 128 images');
    expect(errors, errors.join('\n')).toEqual([]);
  });
});

describeBrowser('dataset browser (1,000 generated images)', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serveApp();
  });
  afterAll(() => app?.close());

  it('keeps only the rows in view in the page and fetches later pages as it scrolls', async () => {
    const root = tempDir('freezelab-browse-');
    mkdirSync(path.join(root, 'images', 'train'), { recursive: true });
    mkdirSync(path.join(root, 'labels', 'train'), { recursive: true });
    const jpg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#88aa77' } })
      .jpeg()
      .toBuffer();
    const n = 1000;
    for (let i = 0; i < n; i++) {
      const stem = `im${String(i).padStart(4, '0')}`;
      writeFileSync(path.join(root, 'images', 'train', `${stem}.jpg`), jpg);
      // image i has (i % 4) boxes: i % 4 == 0 are backgrounds
      const rows = Array.from({ length: i % 4 }, (_, k) => `${k} 0.5 0.5 ${0.2 + 0.1 * k} 0.3`);
      writeFileSync(path.join(root, 'labels', 'train', `${stem}.txt`), rows.join('\n'));
    }
    // one broken row: line 2 of im0005 (which has 1 good row) has 4 values
    writeFileSync(path.join(root, 'labels', 'train', 'im0005.txt'), '0 0.5 0.5 0.2 0.3\n1 0.5 0.5 0.2\n');
    writeFileSync(path.join(root, 'data.yaml'), 'path: .\ntrain: images/train\nval: images/train\nnames: [a, b, c]\n');

    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(`${app.host.url}#/dataset`);
    await page.getByTestId('dataset-yaml').fill(path.join(root, 'data.yaml'));
    await page.getByTestId('dataset-open').click();
    await expect
      .poll(() => page.getByTestId('dataset-total').textContent(), { timeout: 30_000 })
      .toContain(`${n} of ${n} images`);
    await expect.poll(() => page.getByTestId('grid-item').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('grid-item').count()).toBeLessThan(100);
    // Scroll to the end: the last image (page 5 of 200) arrives with its 3 boxes (999 % 4).
    await page.getByTestId('dataset-grid').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    const last = page.locator('[data-testid="grid-item"][data-name="im0999.jpg"]');
    await expect.poll(() => last.locator('rect[data-testid="box"]').count(), { timeout: 30_000 }).toBe(3);
    expect(await page.locator('[data-testid="grid-item"][data-name="im0000.jpg"]').count()).toBe(0);
    expect(await page.getByTestId('grid-item').count()).toBeLessThan(100);
    await expect.poll(() => last.locator('image').count(), { timeout: 30_000 }).toBe(1);
    // the large view steps across a page boundary (image 800 starts page 5) with the arrow keys
    await page.getByTestId('dataset-grid').evaluate((el) => el.scrollTo(0, el.scrollHeight * 0.8));
    await page.locator('[data-testid="grid-item"][data-name="im0800.jpg"]').click();
    await expect
      .poll(() => page.getByTestId('image-dialog').getAttribute('aria-label'))
      .toBe('images/train/im0800.jpg');
    await page.keyboard.press('ArrowLeft');
    await expect
      .poll(() => page.getByTestId('image-dialog').getAttribute('aria-label'))
      .toBe('images/train/im0799.jpg');
    expect(await page.getByTestId('label-row').count()).toBe(799 % 4);
    await page.keyboard.press('Escape');

    // The problem filter finds the broken row; the large view names it at file:line.
    await page.getByTestId('filter-problem').selectOption('field-count');
    await expect.poll(() => page.getByTestId('dataset-total').textContent()).toContain(`1 of ${n} images`);
    await page.locator('[data-testid="grid-item"][data-name="im0005.jpg"]').click();
    await expect
      .poll(() => page.getByTestId('image-problems').textContent())
      .toContain('labels/train/im0005.txt:2: expected 5 values (class cx cy w h), got 4');
    expect(await page.getByTestId('label-row').count()).toBe(1);
    await screenshot(page, 'dataset-problem');
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
