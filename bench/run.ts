/**
 * `npm run bench`: every benchmark in turn, each in its own process (so one's memory peaks do not
 * carry into the next). Figures print and land in bench/results/*.json; see bench/README.md.
 * Optional: names of the benches to run, e.g. `npm run bench -- forward train`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = ['forward', 'val', 'train', 'loader', 'kernels'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const name of chosen) {
  if (!all.includes(name)) throw new Error(`unknown bench '${name}'; choose from ${all.join(', ')}`);
  console.log(`\n== bench/${name}.ts`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) failed += 1;
}
process.exitCode = failed ? 1 : 0;
