#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (run automatically by `npm ci`/`npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('freezelab: not built yet (dist/ missing). Run `npm run build` in the FreezeLab folder.');
  process.exit(1);
}
await import(entry.href);
