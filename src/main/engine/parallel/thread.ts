/**
 * Starts a worker thread on one of FreezeLab's modules: the compiled `.js` next to the caller, or,
 * when FreezeLab runs from its TypeScript sources (tests, benches under tsx), the `.ts` through
 * tsx's loader, which a thread does not inherit from its parent.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/** `file` is relative to `from` (an `import.meta.url`), written without extension. */
export function spawnModuleThread(from: string, file: string, options: WorkerOptions = {}): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`${file}.js`, from), options);
  const entry = new URL(`${file}.ts`, from).href;
  const tsx = pathToFileURL(
    path.join(path.dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
  ).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
