/** A real service over a throwaway data folder, for host tests. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../src/main/paths.js';
import { createService, type HostKind, type Service } from '../../src/main/service/service.js';

export function tempDir(prefix = 'freezelab-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testService(host: HostKind = 'web'): Service {
  const dataDir = tempDir();
  return createService({ host, paths: resolveDataPaths({ dataDir }, {}), loadBackend: () => initBackend() });
}
