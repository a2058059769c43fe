/** Builds the service for a CLI or web-host process from its command line. */
import { initBackend, type BackendChoice } from '../engine/tf/backend.js';
import { resolveDataPaths } from '../paths.js';
import { createService, type HostKind, type Service } from '../service/service.js';
import { UsageError, type CliValues } from './cli.js';

const BACKENDS: readonly BackendChoice[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** `--backend NAME`, validated; undefined means "the best that loads". */
export function backendOption(values: CliValues): BackendChoice | undefined {
  const raw = values.backend;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(BACKENDS as readonly string[]).includes(raw)) {
    throw new UsageError(`--backend takes one of ${BACKENDS.join(', ')}, got '${String(raw)}'.`);
  }
  return raw as BackendChoice;
}

export function serviceFor(host: HostKind, values: CliValues, opts: { runJobs?: boolean } = {}): Service {
  const prefer = backendOption(values);
  return createService({
    host,
    runJobs: opts.runJobs ?? true,
    // --home moves the whole data folder (database and run checkpoints); --db only the database.
    paths: resolveDataPaths({
      db: typeof values.db === 'string' ? values.db : undefined,
      dataDir: typeof values.home === 'string' ? values.home : undefined,
    }),
    loadBackend: () => initBackend(prefer ? { prefer } : {}),
  });
}
