import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BackendError,
  asarUnpackedPath,
  defaultWasmPath,
  initBackend,
  memoryInfo,
} from '../../../src/main/engine/tf/backend.js';

// This machine has neither tfjs-node nor tfjs-node-gpu installed (they are optional), so the
// engine must fall through to wasm with a reason for each.
const nativeInstalled = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some((pkg) => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
});

describe('initBackend', () => {
  it.skipIf(nativeInstalled)('a forced backend that cannot load is an error naming why', async () => {
    const err = await initBackend({ prefer: 'tensorflow-gpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toContain('@tensorflow/tfjs-node-gpu: not installed');
    expect((err as BackendError).attempts).toEqual([
      { name: 'tensorflow-gpu', ok: false, reason: '@tensorflow/tfjs-node-gpu: not installed' },
    ]);
    await expect(initBackend({ prefer: 'tensorflow' })).rejects.toThrow(/@tensorflow\/tfjs-node: not installed/);
  });

  it.skipIf(nativeInstalled)('falls through the native backends to wasm, one reason each', async () => {
    const report = await initBackend();
    expect(report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.attempts.map((a) => [a.name, a.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['tensorflow', false],
      ['wasm', true],
    ]);
    expect(report.device).toEqual({ kind: 'cpu', detail: 'CPU (WASM, one thread per worker)' });
    for (const a of report.attempts.filter((x) => !x.ok)) expect(a.reason).toMatch(/^@tensorflow\/\S+: .+/);
    // wasm really computes
    expect(Array.from(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()))).toEqual([
      11,
    ]);
  });

  it('is idempotent and refuses to switch to another forced backend', async () => {
    const a = await initBackend();
    const b = await initBackend();
    expect(b).toBe(a);
    expect(await initBackend({ prefer: a.name })).toBe(a);
    const other = a.name === 'cpu' ? 'wasm' : 'cpu';
    await expect(initBackend({ prefer: other })).rejects.toThrow(/already/);
  });

  it('memoryInfo counts live tensor bytes', async () => {
    await initBackend();
    const before = memoryInfo();
    const t = tf.zeros([10, 10]);
    const after = memoryInfo();
    expect(after.backend).toBe(tf.getBackend());
    expect(after.numTensors - before.numTensors).toBe(1);
    expect(after.numBytes - before.numBytes).toBe(400);
    t.dispose();
  });
});

describe('wasm binaries location', () => {
  it('defaults to the package dist folder holding the SIMD binary', () => {
    expect(existsSync(path.join(defaultWasmPath(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  it('redirects into app.asar.unpacked only when that copy exists (Electron packaging)', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'freezelab-asar-'));
    const inAsar = path.join(root, 'app.asar', 'node_modules', 'x', 'dist');
    expect(asarUnpackedPath(inAsar)).toBe(inAsar);
    const unpacked = path.join(root, 'app.asar.unpacked', 'node_modules', 'x', 'dist');
    mkdirSync(unpacked, { recursive: true });
    expect(asarUnpackedPath(inAsar)).toBe(unpacked);
    expect(asarUnpackedPath(unpacked)).toBe(unpacked);
  });
});
