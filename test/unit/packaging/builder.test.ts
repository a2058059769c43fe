import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import beforePack, {
  CPU_PACKAGE,
  EXCLUDE_ENV,
  GPU_PACKAGE,
  excludeGlob,
  nativeInstalled,
  nativePackageFor,
} from '../../../scripts/native-backend.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const config = parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};

const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<
    string,
    {
      version?: string;
      optional?: boolean;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    }
  >;
};

const targets = (platform: string) => ((config[platform] as { target: string[] }).target ?? []).map(String);

describe('installer configuration (electron-builder.yml)', () => {
  it('names the app and builds every lab platform', () => {
    expect(config.appId).toBe('org.freezelab.app');
    expect(config.productName).toBe('FreezeLab');
    expect(targets('linux')).toEqual(['AppImage', 'deb']);
    expect(targets('win')).toEqual(['nsis']);
    expect(targets('mac')).toEqual(['dmg']);
  });

  it('ships the built app, the icon and the demo, and the icon exists', () => {
    const files = config.files as string[];
    expect(files).toEqual(expect.arrayContaining(['dist/**', 'assets/icon.png', 'assets/demo/**']));
    for (const platform of ['linux', 'win', 'mac']) {
      const icon = (config[platform] as { icon: string }).icon;
      expect(existsSync(path.join(root, icon)), icon).toBe(true);
    }
    expect((config.extraMetadata as { main: string }).main).toBe(pkg.main);
  });

  it('unpacks native modules, WASM binaries and the optional GPU backend from the asar archive', () => {
    const unpack = config.asarUnpack as string[];
    for (const p of [
      '**/*.node',
      'node_modules/better-sqlite3/**',
      'node_modules/sharp/**',
      'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
      'node_modules/@tensorflow/tfjs-node-gpu/**',
      'node_modules/@tensorflow/tfjs-node/**',
    ]) {
      expect(unpack).toContain(p);
    }
    // better-sqlite3 is rebuilt against Electron's ABI when packaging.
    expect(config.npmRebuild).toBe(true);
  });

  it('keeps both native backends optional, pinned alike, and Electron a build-time dependency', () => {
    for (const native of [GPU_PACKAGE, CPU_PACKAGE]) {
      expect(pkg.optionalDependencies?.[native], native).toBe(pkg.dependencies['@tensorflow/tfjs']);
      expect(pkg.dependencies[native], native).toBeUndefined();
      // npm ci installs exactly this, and may skip it when libtensorflow cannot be downloaded.
      const locked = lock.packages[`node_modules/${native}`];
      expect(locked?.version, native).toBe(pkg.optionalDependencies?.[native]);
      expect(locked?.optional, native).toBe(true);
      expect(lock.packages['']?.optionalDependencies?.[native], native).toBe(pkg.optionalDependencies?.[native]);
      expect(lock.packages['']?.dependencies?.[native], native).toBeUndefined();
    }
    expect(pkg.devDependencies.electron).toMatch(/^41\./);
    expect(pkg.dependencies['better-sqlite3']).toMatch(/^12\./);
  });

  it('the demo assets it ships are present', () => {
    expect(existsSync(path.join(root, 'assets', 'demo', 'yolov5-demo.yaml'))).toBe(true);
    expect(existsSync(path.join(root, 'assets', 'demo', 'demo-base.safetensors'))).toBe(true);
  });
});

// electron-builder's own code, to apply the yml exactly as `npm run dist` does.
const builderRequire = createRequire(path.join(root, 'package.json'));
const { getNodeModuleFileMatcher } = builderRequire('app-builder-lib/out/fileMatcher.js') as {
  getNodeModuleFileMatcher(
    appDir: string,
    destination: string,
    macroExpander: (pattern: string) => string,
    platformOptions: Record<string, unknown>,
    packager: { config: Record<string, unknown>; debugLogger: { isEnabled: boolean } },
  ): { createFilter(): (file: string, stat: { isDirectory(): boolean; moduleFullFilePath?: string }) => boolean };
};
const { expandMacro } = builderRequire('app-builder-lib/out/util/macroExpander.js') as {
  expandMacro(pattern: string, arch: string | null, appInfo: object, extra: Record<string, string>): string;
};
const { resolveFunction } = builderRequire('app-builder-lib/out/util/resolve.js') as {
  resolveFunction(type: unknown, executor: unknown, name: string, rootSearchDir: string): Promise<unknown>;
};

/** Platform key in electron-builder.yml for a Node platform name. */
const configKey = { linux: 'linux', win32: 'win', darwin: 'mac' } as const;

/** Whether the installer for `platform`-`arch` would contain this node_modules file. */
function shipsFile(platform: keyof typeof configKey, arch: string, file: string): boolean {
  const platformOptions = (config[configKey[platform]] ?? {}) as Record<string, unknown>;
  const matcher = getNodeModuleFileMatcher(
    root,
    path.join(root, 'app'),
    (p) => expandMacro(p, arch, {}, { os: configKey[platform] }),
    platformOptions,
    { config, debugLogger: { isEnabled: false } },
  );
  return matcher.createFilter()(path.join(root, file), { isDirectory: () => false, moduleFullFilePath: file });
}

/** A fake app folder with these native packages installed (binding present or not). */
function appWith(installed: Record<string, 'with binding' | 'without binding'>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'freezelab-builder-'));
  for (const [pkgName, state] of Object.entries(installed)) {
    const lib = path.join(dir, 'node_modules', ...pkgName.split('/'), 'lib', 'napi-v8');
    mkdirSync(lib, { recursive: true });
    if (state === 'with binding') writeFileSync(path.join(lib, 'tfjs_binding.node'), '');
  }
  return dir;
}

const ARCH = { ia32: 0, x64: 1, armv7l: 2, arm64: 3 } as const;

describe('which native TensorFlow each installer ships', () => {
  const saved = process.env[EXCLUDE_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[EXCLUDE_ENV];
    else process.env[EXCLUDE_ENV] = saved;
    vi.restoreAllMocks();
  });

  it('tfjs-node-gpu on Linux x64 and Windows x64 when installed, tfjs-node elsewhere and otherwise', () => {
    const build = (platform: string, arch: string, gpuInstalled: boolean) =>
      nativePackageFor({ platform, arch, gpuInstalled, host: { platform, arch } });
    expect(build('linux', 'x64', true)).toEqual({ ship: GPU_PACKAGE, exclude: [CPU_PACKAGE] });
    expect(build('win32', 'x64', true)).toEqual({ ship: GPU_PACKAGE, exclude: [CPU_PACKAGE] });
    expect(build('linux', 'x64', false)).toEqual({ ship: CPU_PACKAGE, exclude: [GPU_PACKAGE] });
    expect(build('win32', 'x64', false)).toEqual({ ship: CPU_PACKAGE, exclude: [GPU_PACKAGE] });
    // No GPU build of libtensorflow for these, even if something were installed.
    expect(build('darwin', 'arm64', true)).toEqual({ ship: CPU_PACKAGE, exclude: [GPU_PACKAGE] });
    expect(build('darwin', 'x64', true)).toEqual({ ship: CPU_PACKAGE, exclude: [GPU_PACKAGE] });
    expect(build('linux', 'arm64', true)).toEqual({ ship: CPU_PACKAGE, exclude: [GPU_PACKAGE] });
    expect(build('win32', 'ia32', true)).toEqual({ ship: CPU_PACKAGE, exclude: [GPU_PACKAGE] });
    // What npm installed runs on the build machine only: another target gets neither.
    const host = { platform: 'linux', arch: 'x64' };
    expect(nativePackageFor({ platform: 'win32', arch: 'x64', gpuInstalled: true, host })).toEqual({
      ship: null,
      exclude: [GPU_PACKAGE, CPU_PACKAGE],
    });
    expect(nativePackageFor({ platform: 'linux', arch: 'arm64', gpuInstalled: true, host }).ship).toBeNull();
    expect(
      nativePackageFor({
        platform: 'mas',
        arch: 'arm64',
        gpuInstalled: true,
        host: { platform: 'darwin', arch: 'arm64' },
      }).ship,
    ).toBe(CPU_PACKAGE);
  });

  it('counts a native package as installed only with its libtensorflow binding', () => {
    const app = appWith({ [GPU_PACKAGE]: 'without binding', [CPU_PACKAGE]: 'with binding' });
    expect(nativeInstalled(app, GPU_PACKAGE)).toBe(false);
    expect(nativeInstalled(app, CPU_PACKAGE)).toBe(true);
    expect(nativeInstalled(appWith({}), CPU_PACKAGE)).toBe(false);
  });

  it('electron-builder.yml leaves out exactly the package the hook names, for each platform', () => {
    expect(config.beforePack).toBe('./scripts/native-backend.js');
    const cases: [keyof typeof configKey, string, boolean, string | null][] = [
      ['linux', 'x64', true, GPU_PACKAGE],
      ['win32', 'x64', true, GPU_PACKAGE],
      ['linux', 'x64', false, CPU_PACKAGE],
      ['darwin', 'arm64', true, CPU_PACKAGE],
      ['darwin', 'x64', false, CPU_PACKAGE],
    ];
    for (const [platform, arch, gpuInstalled, expected] of cases) {
      const { ship, exclude } = nativePackageFor({ platform, arch, gpuInstalled, host: { platform, arch } });
      expect(ship).toBe(expected);
      process.env[EXCLUDE_ENV] = excludeGlob(exclude);
      const label = `${platform}-${arch}${gpuInstalled ? ' with tfjs-node-gpu' : ''}`;
      for (const native of [GPU_PACKAGE, CPU_PACKAGE]) {
        for (const file of [
          'package.json',
          'dist/index.js',
          'lib/napi-v8/tfjs_binding.node',
          'deps/lib/libtensorflow.so.2',
        ]) {
          expect(shipsFile(platform, arch, `node_modules/${native}/${file}`), `${label}: ${native}/${file}`).toBe(
            native === ship,
          );
        }
        // its own dependencies go with it
        expect(shipsFile(platform, arch, `node_modules/${native}/node_modules/debug/package.json`), label).toBe(
          native === ship,
        );
      }
      for (const kept of [
        'node_modules/@tensorflow/tfjs/package.json',
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
        'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      ]) {
        expect(shipsFile(platform, arch, kept), `${label}: ${kept}`).toBe(true);
      }
    }
    // A cross build ships neither.
    process.env[EXCLUDE_ENV] = excludeGlob([GPU_PACKAGE, CPU_PACKAGE]);
    expect(shipsFile('win32', 'x64', `node_modules/${GPU_PACKAGE}/package.json`)).toBe(false);
    expect(shipsFile('win32', 'x64', `node_modules/${CPU_PACKAGE}/package.json`)).toBe(false);
    expect(shipsFile('win32', 'x64', 'node_modules/better-sqlite3/package.json')).toBe(true);
    // Without the hook the build stops rather than shipping both.
    delete process.env[EXCLUDE_ENV];
    expect(() => shipsFile('linux', 'x64', 'node_modules/better-sqlite3/package.json')).toThrow(EXCLUDE_ENV);
  });

  it('the beforePack hook loads through electron-builder and sets the choice for the target', async () => {
    // The copy electron-builder loads (its own module instance) is the one exercised.
    const hook = (await resolveFunction(undefined, config.beforePack, 'beforePack', root)) as typeof beforePack;
    expect(hook.name).toBe(beforePack.name);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const here = { platform: process.platform, arch: process.arch };
    const context = (appDir: string, platform: string, arch: number) => ({
      electronPlatformName: platform,
      arch,
      packager: { info: { appDir } },
    });
    const archNumber = ARCH[here.arch as keyof typeof ARCH];
    const withGpu = appWith({ [GPU_PACKAGE]: 'with binding', [CPU_PACKAGE]: 'with binding' });
    await hook(context(withGpu, here.platform, archNumber));
    const gpuHere = ['linux-x64', 'win32-x64'].includes(`${here.platform}-${here.arch}`);
    expect(process.env[EXCLUDE_ENV]).toBe(gpuHere ? 'tfjs-node' : 'tfjs-node-gpu');
    await hook(context(appWith({ [GPU_PACKAGE]: 'without binding' }), here.platform, archNumber));
    expect(process.env[EXCLUDE_ENV]).toBe('tfjs-node-gpu');
    const other = here.platform === 'win32' ? 'linux' : 'win32';
    await hook(context(withGpu, other, archNumber));
    expect(process.env[EXCLUDE_ENV]).toBe('{tfjs-node-gpu,tfjs-node}');
  });
});

const electronDist = path.join(root, 'node_modules', 'electron', 'dist');
const packaged = path.join(root, 'release', 'linux-unpacked');
describe.skipIf(!existsSync(packaged))(
  `packaged layout (skipped: no ${path.relative(root, packaged)}; it exists after \`npm run dist\` where the Electron distribution ${existsSync(electronDist) ? 'is' : 'is not'} available)`,
  () => {
    it('has the app archive and the unpacked native modules', () => {
      const resources = path.join(packaged, 'resources');
      expect(existsSync(path.join(resources, 'app.asar'))).toBe(true);
      expect(existsSync(path.join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3'))).toBe(true);
      expect(existsSync(path.join(resources, 'app.asar.unpacked', 'assets', 'demo', 'demo-base.safetensors'))).toBe(
        true,
      );
    });

    it('has at most one native TensorFlow package', () => {
      const tfDir = path.join(packaged, 'resources', 'app.asar.unpacked', 'node_modules', '@tensorflow');
      const natives = [GPU_PACKAGE, CPU_PACKAGE].filter((p) =>
        existsSync(path.join(tfDir, p.replace('@tensorflow/', ''), 'package.json')),
      );
      expect(natives.length).toBeLessThanOrEqual(1);
    });
  },
);
