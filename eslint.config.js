// Flat ESLint config. Besides the usual rules it enforces the boundaries of ARCHITECTURE.md:
// src/shared imports nothing from Node, Electron, the DOM, main or the renderer; the engine, store,
// jobs and service each import only the rooms below them and never a host (cli, web, electron);
// the renderer never imports Node or main-side code; and no module imports itself in a cycle.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const nodeModules = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nodeBuiltins = {
  paths: nodeModules.map((name) => ({ name, message: 'Node modules belong to src/main.' })),
  patterns: [{ group: ['node:*'], message: 'Node modules belong to src/main.' }],
};
const electronBan = { name: 'electron', message: 'Only src/main/electron may import electron.' };
const domGlobals = ['window', 'document', 'navigator', 'localStorage', 'HTMLElement', 'location'].map((name) => ({
  name,
  message: 'DOM code belongs to src/renderer.',
}));

/**
 * Bans relative imports that climb out of a folder into one of `rooms` (sibling folders of
 * src/main, or of src for src/shared): `../store/x.js`, `../../service/service.js`, ...
 * Type-only imports count too: a room should not even know another's types.
 */
const roomBan = (rooms, message) => ({ regex: `^(\\.\\./)+(${rooms.join('|')})(/|$)`, message });
const hosts = ['cli', 'web', 'electron'];
/** Per room of src/main: the rooms it must not import (see ARCHITECTURE.md). */
const mainRooms = {
  engine: ['store', 'service', 'jobs', 'cluster', ...hosts],
  store: ['engine', 'service', 'jobs', 'cluster', ...hosts],
  jobs: ['service', 'cluster', ...hosts],
  cluster: ['engine', 'service', 'jobs', ...hosts],
  service: hosts,
};

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'coverage/**', 'artifacts/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='describe'][callee.property.name='only']",
          message: 'No focused tests.',
        },
        {
          selector: "CallExpression[callee.object.name='it'][callee.property.name='only']",
          message: 'No focused tests.',
        },
        {
          selector: "CallExpression[callee.object.name='test'][callee.property.name='only']",
          message: 'No focused tests.',
        },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig } },
  },
  {
    files: ['src/main/electron/preload.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // ---- No import cycles (resolves the TypeScript sources behind `.js` specifiers) ----
  {
    files: ['src/**/*.ts', 'src/**/*.svelte', 'test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js', '.svelte'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // ---- Process boundaries ----
  {
    files: ['src/shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins.paths, electronBan],
          patterns: [
            ...nodeBuiltins.patterns,
            roomBan(['main', 'renderer'], 'src/shared runs everywhere: it may not import src/main or src/renderer.'),
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...domGlobals,
        { name: 'process', message: 'src/shared runs everywhere: no Node globals.' },
        { name: 'Buffer', message: 'src/shared runs everywhere: no Node globals.' },
      ],
    },
  },
  {
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronBan] }],
      'no-restricted-globals': ['error', ...domGlobals],
    },
  },
  ...Object.entries(mainRooms).map(([room, banned]) => ({
    files: [`src/main/${room}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronBan],
          patterns: [roomBan(banned, `src/main/${room} may not import src/main/{${banned.join(',')}}.`)],
        },
      ],
    },
  })),
  {
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.svelte'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No Node in the renderer.' },
        { name: 'require', message: 'No Node in the renderer.' },
      ],
    },
  },
  // The renderer imports only src/shared and its own files. A relative import that climbs out of
  // src/renderer lands in src/ after depth + 1 `../`: from there only `shared/` is allowed.
  ...[0, 1, 2, 3, 4].map((depth) => ({
    files: [`src/renderer/${'*/'.repeat(depth)}*.ts`, `src/renderer/${'*/'.repeat(depth)}*.svelte`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins.paths, electronBan],
          patterns: [
            ...nodeBuiltins.patterns,
            {
              group: ['**/main/**', '../main/*', '../../main/*'],
              message: 'The renderer talks to main only through the contract.',
            },
            {
              regex: `^(\\.\\./){${depth + 1}}(?!shared/)`,
              message: 'The renderer imports only src/shared and its own files.',
            },
          ],
        },
      ],
    },
  })),
);
