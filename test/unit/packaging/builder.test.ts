import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const config = parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
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
    ]) {
      expect(unpack).toContain(p);
    }
    // better-sqlite3 is rebuilt against Electron's ABI when packaging.
    expect(config.npmRebuild).toBe(true);
  });

  it('keeps the GPU backend optional and Electron a build-time dependency', () => {
    expect(pkg.optionalDependencies?.['@tensorflow/tfjs-node-gpu']).toBeDefined();
    expect(pkg.dependencies['@tensorflow/tfjs-node-gpu']).toBeUndefined();
    expect(pkg.devDependencies.electron).toMatch(/^41\./);
    expect(pkg.dependencies['better-sqlite3']).toMatch(/^12\./);
  });

  it('the demo assets it ships are present', () => {
    expect(existsSync(path.join(root, 'assets', 'demo', 'yolov5-demo.yaml'))).toBe(true);
    expect(existsSync(path.join(root, 'assets', 'demo', 'demo-base.safetensors'))).toBe(true);
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
  },
);
