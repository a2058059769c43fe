/**
 * Access to `../shared` (reference figures, coco128, official weights). Tests may read it; the
 * product never does. When it is absent, tests that need it skip (the reporter in
 * shared-reporter.ts says why, once, under the summary), except under CI=true, where its absence
 * is a failure.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { SHARED_SKIP_MARK } from './shared-mark.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.FREEZELAB_SHARED ?? path.resolve(repoRoot, '..', 'shared');
export const sharedAvailable = existsSync(path.join(sharedDir, 'reference', 'README.md'));

if (!sharedAvailable && process.env.CI === 'true') {
  throw new Error(`CI=true but the shared reference folder is missing at ${sharedDir}`);
}

/** Path inside ../shared. */
export function shared(...parts: string[]): string {
  return path.join(sharedDir, ...parts);
}

/**
 * `describe` that skips when ../shared is absent (never under CI=true). The body is not called
 * then: vitest runs the body of a skipped `describe` to collect its tests, and these bodies may
 * read reference files as they declare their tests.
 */
export function describeShared(name: string, fn: () => void): void {
  if (sharedAvailable) {
    describe(name, fn);
  } else {
    describe.skip(`${name} ${SHARED_SKIP_MARK}`, () => {
      it.skip(`reads ${sharedDir}`);
    });
  }
}
