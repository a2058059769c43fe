import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';
import { SharedSkipReporter } from './test/helpers/shared-reporter.js';

export default defineConfig({
  test: {
    // tfjs WASM and training tests are CPU-heavy on 2 cores: generous timeouts, few workers.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    // The default output, then one line on why tests needing ../shared skipped (when they did).
    reporters: ['default', new SharedSkipReporter()],
    projects: [
      {
        extends: true,
        // The Svelte compiler lets unit tests import the renderer's state classes (runes, *.svelte.ts).
        plugins: [svelte()],
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        // A one-node Slurm cluster started by the test itself (root and slurm-wlm, or it skips saying why).
        test: {
          name: 'slurm',
          include: ['test/slurm/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
        },
      },
    ],
  },
});
