import { describe, expect, it } from 'vitest';
import { BackendError, initBackend } from '../../../src/main/engine/tf/backend.js';

// Own file: a wasm backend that failed to initialise stays failed for the process.
describe('initBackend with a wrong wasm folder', () => {
  it('forced wasm reports the missing file; unforced falls back to cpu', async () => {
    const bad = '/nonexistent-freezelab-wasm-dir';
    const err = await initBackend({ prefer: 'wasm', wasmPath: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/wasm/);
    expect((err as Error).message).toContain(bad);
    const report = await initBackend({ wasmPath: bad });
    expect(report.name).toBe('cpu');
    expect(report.attempts.find((a) => a.name === 'wasm')?.ok).toBe(false);
  });
});
