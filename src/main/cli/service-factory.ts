/** Builds the service for a CLI or web-host process from its command line. */
import { BACKENDS, backendSchema, type BackendName } from '../../shared/backend.js';
import { initBackend } from '../engine/tf/backend.js';
import { resolveDataPaths } from '../paths.js';
import { createService, type HostKind, type Service } from '../service/service.js';
import { UsageError, type CliValues } from './cli.js';

/** The backends as help text says them: "tensorflow-gpu, tensorflow, wasm or cpu". */
export const BACKEND_WORDS = `${BACKENDS.slice(0, -1).join(', ')} or ${BACKENDS.at(-1)}`;

/** `--backend NAME`, validated; undefined means "the best that loads". */
export function backendOption(values: CliValues): BackendName | undefined {
  const raw = values.backend;
  if (raw === undefined) return undefined;
  const parsed = backendSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--backend takes one of ${BACKENDS.join(', ')}, got '${String(raw)}'.`);
  return parsed.data;
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
