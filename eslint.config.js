// Flat ESLint config. Besides the usual rules it enforces the process boundaries:
// src/shared imports nothing from Node, Electron or the DOM; the engine, store and service never
// import electron; the renderer never imports Node or main-side code.
import js from '@eslint/js';
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
  // ---- Process boundaries ----
  {
    files: ['src/shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...nodeBuiltins.paths, electronBan], patterns: nodeBuiltins.patterns },
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
  {
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.svelte'],
    languageOptions: { globals: { ...globals.browser } },
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
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No Node in the renderer.' },
        { name: 'require', message: 'No Node in the renderer.' },
      ],
    },
  },
);
