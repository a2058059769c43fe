/**
 * `npm start` (scripts/start.js) builds only what is missing or older than its sources: after
 * `npm ci`, which builds, a first launch starts at once. Run on a copy of the script in a folder
 * of dated files, with `npm` (npm_execpath) replaced by a recorder that writes the build's output.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/service.js';

const repo = path.resolve(new URL('../../..', import.meta.url).pathname);
const root = tempDir('freezelab-start-script-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SOURCES = [
  'src/main/cli/main.ts',
  'src/shared/runs.ts',
  'src/renderer/App.svelte',
  'tsconfig.node.json',
  'tsconfig.base.json',
  'vite.config.ts',
];
const OUTPUTS = ['dist/main/cli/main.js', 'dist/shared/runs.js', 'dist/renderer/index.html'];

function write(file: string, seconds: number): void {
  const full = path.join(root, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, file);
  utimesSync(full, seconds, seconds);
}

// Stands in for npm: records `run <script>`, writes that script's outputs (or fails when asked).
writeFileSync(
  path.join(root, 'fake-npm.cjs'),
  `const fs = require('node:fs');
const path = require('node:path');
const script = process.argv[3];
fs.appendFileSync(path.join(__dirname, 'npm.log'), script + '\\n');
if (process.env.FAKE_NPM_FAIL) process.exit(3);
const outputs = { 'build:main': ['dist/main/cli/main.js', 'dist/shared/runs.js'], 'build:renderer': ['dist/renderer/index.html'] };
for (const file of outputs[script]) {
  fs.mkdirSync(path.dirname(path.join(__dirname, file)), { recursive: true });
  fs.writeFileSync(path.join(__dirname, file), 'built');
}
`,
);
// Stands in for the CLI the script serves with when there is no Electron window.
mkdirSync(path.join(root, 'bin'));
writeFileSync(path.join(root, 'bin', 'freezelab.js'), "console.log('served ' + process.argv.slice(2).join(' '));\n");
mkdirSync(path.join(root, 'scripts'));
copyFileSync(path.join(repo, 'scripts', 'start.js'), path.join(root, 'scripts', 'start.js'));
writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');

function start(env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; builds: string[] } {
  rmSync(path.join(root, 'npm.log'), { force: true });
  const result = spawnSync(process.execPath, ['scripts/start.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, FREEZELAB_NO_ELECTRON: '1', npm_execpath: path.join(root, 'fake-npm.cjs'), ...env },
    encoding: 'utf8',
  });
  const log = path.join(root, 'npm.log');
  const builds = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { code: result.status, out: `${result.stdout}${result.stderr}`, builds };
}

// In the past, so that what the recorder writes now is newer than any of them.
const T0 = Math.floor(Date.now() / 1000) - 86_400; // sources, in seconds
const T1 = T0 + 60; // a build after them

describe('npm start', () => {
  it('builds nothing when the build is newer than its sources (a first launch after npm ci)', () => {
    for (const f of SOURCES) write(f, T0);
    for (const f of OUTPUTS) write(f, T1);
    const r = start();
    expect(r.builds).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('building');
    expect(r.out).toContain('served serve');
  });

  it('rebuilds only the half whose sources changed', () => {
    write('src/renderer/App.svelte', T1 + 60);
    expect(start().builds).toEqual(['build:renderer']);
    write('src/main/cli/main.ts', T1 + 600);
    const r = start();
    expect(r.builds).toEqual(['build:main']);
    expect(r.out).toContain('FreezeLab: building (npm run build:main)');
    // A shared file feeds both halves.
    for (const f of OUTPUTS) write(f, T1);
    write('src/shared/runs.ts', T1 + 60);
    expect(start().builds).toEqual(['build:main', 'build:renderer']);
    expect(start().builds).toEqual([]);
  });

  it('builds both halves when dist/ is missing, then serves', () => {
    rmSync(path.join(root, 'dist'), { recursive: true, force: true });
    const r = start();
    expect(r.builds).toEqual(['build:main', 'build:renderer']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('served serve');
  });

  it('stops with the build’s exit code when the build fails, without serving', () => {
    rmSync(path.join(root, 'dist'), { recursive: true, force: true });
    const r = start({ FAKE_NPM_FAIL: '1' });
    expect(r.builds).toEqual(['build:main']);
    expect(r.code).toBe(3);
    expect(r.out).toContain('FreezeLab: npm run build:main failed');
    expect(r.out).not.toContain('served');
  });
});

describe('package.json', () => {
  it('leaves building to scripts/start.js, so npm ci (prepare) and npm start do not both build', () => {
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('node scripts/start.js');
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.build).toBe('npm run build:main && npm run build:renderer');
  });
});
