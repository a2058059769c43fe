/** `model.detect` shows one image; given a folder it says so and points to pre-labelling (CLI and app). */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, testService } from '../../helpers/service.js';

describe('model.detect given a folder', () => {
  const service = testService('web');
  afterAll(() => service.close());

  it('is a bad-file error whose hint names freezelab detect --save-txt and the Pre-label section', async () => {
    const folder = path.join(tempDir('freezelab-detect-'), 'my images');
    mkdirSync(folder);
    const answer = await service.dispatch('model.detect', { weights: 'n', source: folder });
    expect(answer.ok).toBe(false);
    if (answer.ok) return;
    expect(answer.error.code).toBe('bad-file');
    expect(answer.error.message).toBe(`${folder} is a folder; detecting shows one image file.`);
    expect(answer.error.hint).toContain(`freezelab detect --source "${folder}" --save-txt`);
    expect(answer.error.hint).toContain('Pre-label section');
  });
});
