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
  } catch (error) {
    const first = String(error?.message ?? error).split('\n')[0];
    return {
      reason: `the Electron binary is not installed (${first}; installs with ELECTRON_SKIP_BINARY_DOWNLOAD=1 skip it)`,
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
