// `npm start`: the Electron window when Electron can start here; otherwise one line saying why,
// then the same interface from the web host (`freezelab serve`), whose URL is printed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

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

const electron = whyNotElectron();
if (electron.binary) {
  run(electron.binary, ['.', ...process.argv.slice(2)]);
} else {
  console.log(
    `FreezeLab: not opening a window because ${electron.reason}; serving the interface in your browser instead.`,
  );
  run(process.execPath, ['bin/freezelab.js', 'serve', ...process.argv.slice(2)]);
}
