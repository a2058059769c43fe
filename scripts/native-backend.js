// electron-builder `beforePack` hook: picks the ONE native TensorFlow package an installer ships.
//
// Both are optional dependencies, each bringing its own libtensorflow (hundreds of MB); the app
// loads one `tensorflow` backend anyway. tfjs-node-gpu exists for Linux x64 and Windows x64 only
// (and runs on the CPU, on every core, where CUDA is missing); everything else ships tfjs-node.
// What npm installed holds libtensorflow for the build machine only, so an installer for another
// platform or architecture ships neither (it runs on WASM).
// The choice reaches electron-builder.yml's `files` through the FREEZELAB_NATIVE_EXCLUDE macro
// (`${env.FREEZELAB_NATIVE_EXCLUDE}`), set here for each platform and architecture before packing.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
export const CPU_PACKAGE = '@tensorflow/tfjs-node';
/** The environment variable electron-builder.yml reads (`${env.FREEZELAB_NATIVE_EXCLUDE}`). */
export const EXCLUDE_ENV = 'FREEZELAB_NATIVE_EXCLUDE';

/** Platforms (Node names) and architectures tfjs-node-gpu has a libtensorflow build for. */
const GPU_TARGETS = new Set(['linux-x64', 'win32-x64']);

/**
 * Which native package an installer for `platform`-`arch` ships and which it leaves out.
 * @param {{ platform: string, arch: string, gpuInstalled: boolean, host: { platform: string, arch: string } }} target
 *   `platform` as Node names it (linux, win32, darwin; mas is darwin), `arch` as electron-builder
 *   does (x64, arm64, ia32, armv7l, universal); `gpuInstalled`: tfjs-node-gpu and its
 *   libtensorflow are in node_modules; `host`: the build machine (`process.platform/arch`).
 * @returns {{ ship: string | null, exclude: string[] }} package names; `ship` null: neither
 */
export function nativePackageFor({ platform, arch, gpuInstalled, host }) {
  const os = platform === 'mas' ? 'darwin' : platform;
  if (os !== host.platform || arch !== host.arch) return { ship: null, exclude: [GPU_PACKAGE, CPU_PACKAGE] };
  const gpu = gpuInstalled && GPU_TARGETS.has(`${os}-${arch}`);
  return gpu ? { ship: GPU_PACKAGE, exclude: [CPU_PACKAGE] } : { ship: CPU_PACKAGE, exclude: [GPU_PACKAGE] };
}

/**
 * The value of {@link EXCLUDE_ENV} for these packages: a directory name under
 * node_modules/@tensorflow/, or a `{a,b}` glob alternation for two.
 * @param {string[]} packages
 */
export function excludeGlob(packages) {
  const dirs = packages.map((p) => p.replace('@tensorflow/', ''));
  return dirs.length === 1 ? dirs[0] : `{${dirs.join(',')}}`;
}

/**
 * Whether a tfjs-node(-gpu) package is installed with its native binding (its install script
 * downloaded libtensorflow and placed `lib/napi-v*\/tfjs_binding.node`), under `appDir`.
 * @param {string} appDir
 * @param {string} pkg
 */
export function nativeInstalled(appDir, pkg) {
  const lib = path.join(appDir, 'node_modules', ...pkg.split('/'), 'lib');
  if (!existsSync(lib)) return false;
  return readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(path.join(lib, d, 'tfjs_binding.node')));
}

const ARCH_NAMES = ['ia32', 'x64', 'armv7l', 'arm64', 'universal']; // electron-builder's Arch enum

/**
 * The hook: sets {@link EXCLUDE_ENV} to the package directory (under node_modules/@tensorflow/)
 * to leave out of this platform's installer.
 * @param {{ electronPlatformName: string, arch: number, packager: { info: { appDir: string } } }} context
 */
export default async function beforePack(context) {
  const platform = context.electronPlatformName;
  const arch = ARCH_NAMES[context.arch] ?? String(context.arch);
  const appDir = context.packager.info.appDir;
  const gpuInstalled = nativeInstalled(appDir, GPU_PACKAGE);
  const host = { platform: process.platform, arch: process.arch };
  const { ship, exclude } = nativePackageFor({ platform, arch, gpuInstalled, host });
  process.env[EXCLUDE_ENV] = excludeGlob(exclude);
  const what =
    ship === null
      ? `none (this machine is ${host.platform}-${host.arch}: its libtensorflow would not run there)`
      : `${ship}${nativeInstalled(appDir, ship) ? '' : ' (not installed here: the app will use WASM)'}`;
  console.log(`  • FreezeLab native TensorFlow for ${platform}-${arch}: ${what}`);
}
