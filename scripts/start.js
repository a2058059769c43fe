// `npm start`: builds what is missing or older than its sources, then the Electron window when
// Electron can start here; otherwise one line saying why, then the same interface from the web
// host (`freezelab serve`), whose URL is printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** Newest modification time under the given files and folders (0 when none exists). */
function newest(paths) {
  let latest = 0;
  for (const p of paths) {
    const full = path.join(root, p);
    if (!existsSync(full)) continue;
    const stat = statSync(full);
    if (stat.isDirectory()) latest = Math.max(latest, newest(readdirSync(full).map((name) => path.join(p, name))));
    else latest = Math.max(latest, stat.mtimeMs);
  }
  return latest;
}

// Each half of `npm run build`, with what it reads and the file it cannot do without. `npm ci`
// already built (prepare), so a first launch after it builds nothing; after an edit or a pull,
// only the stale half is built again. tsc and vite rewrite every output, so the newest output is
// the time of the last build.
const parts = [
  {
    script: 'build:main',
    sources: ['src/main', 'src/shared', 'tsconfig.node.json', 'tsconfig.base.json'],
    outputs: ['dist/main', 'dist/shared'],
    entry: 'dist/main/cli/main.js',
  },
  {
    script: 'build:renderer',
    sources: ['src/renderer', 'src/shared', 'vite.config.ts', 'svelte.config.js'],
    outputs: ['dist/renderer'],
    entry: 'dist/renderer/index.html',
  },
];

function buildWhatIsStale() {
  for (const part of parts) {
    if (existsSync(path.join(root, part.entry)) && newest(part.outputs) >= newest(part.sources)) continue;
    console.log(`FreezeLab: building (npm run ${part.script}): the build is missing or older than its sources.`);
    // Under `npm start`, npm_execpath is npm's own script; run directly, `npm` from the PATH.
    const npm = process.env.npm_execpath;
    const result = npm
      ? spawnSync(process.execPath, [npm, 'run', part.script], { cwd: root, stdio: 'inherit' })
      : spawnSync('npm', ['run', part.script], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
    if (result.status !== 0) {
      console.error(`FreezeLab: npm run ${part.script} failed; see above.`);
      process.exit(result.status ?? 1);
    }
  }
}

function electronBinary() {
  try {
    const binary = require('electron'); // the package exports the binary's path
    if (typeof binary !== 'string' || !existsSync(binary))
      return { reason: `the Electron binary is missing (${binary})` };
    return { binary };
  } catch {
    // The package's own error ("Electron failed to install correctly, please delete
    // node_modules/electron...") is wrong advice after the README's ELECTRON_SKIP_BINARY_DOWNLOAD=1
    // install, which skips the binary on purpose: say that instead.
    return {
      reason:
        'the Electron binary is not installed (an install with ELECTRON_SKIP_BINARY_DOWNLOAD=1 skips it; ' +
        'reinstall without it, where the network allows, for the desktop window)',
    };
  }
}

function whyNotElectron() {
  if (process.env.FREEZELAB_NO_ELECTRON) return { reason: 'FREEZELAB_NO_ELECTRON is set' };
  const found = electronBinary();
  if (!found.binary) return found;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  }
  return found;
}

function run(command, args) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}

buildWhatIsStale();
const electron = whyNotElectron();
if (electron.binary) {
  run(electron.binary, ['.', ...process.argv.slice(2)]);
} else {
  console.log(
    `FreezeLab: not opening a window because ${electron.reason}; serving the interface in your browser instead.`,
  );
  run(process.execPath, ['bin/freezelab.js', 'serve', ...process.argv.slice(2)]);
}
