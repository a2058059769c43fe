/**
 * Access to `../shared` (reference figures, coco128, official weights). Tests may read it; the
 * product never does. When it is absent, tests that need it skip with a message, except under
 * CI=true, where its absence is a failure.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

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

/** `describe` that skips, saying why, when ../shared is absent (never under CI=true). */
export function describeShared(name: string, fn: () => void): void {
  if (sharedAvailable) {
    describe(name, fn);
  } else {
    describe.skip(`${name} (skipped: ${sharedDir} not found; set FREEZELAB_SHARED)`, fn);
  }
}
