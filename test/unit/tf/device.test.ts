import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../../src/main/cli/cli.js';
import { cliCommands } from '../../../src/main/cli/commands/index.js';
import { describeDevice, initBackend } from '../../../src/main/engine/tf/backend.js';
import {
  cudaLibraries,
  deviceDescription,
  librarySearchDirs,
  missingLibraries,
  nativeGpuState,
  probeDevice,
  type LibraryProbe,
} from '../../../src/main/engine/tf/device.js';

/** A machine whose files are exactly `files`, with this environment and ld.so cache text. */
function machine(
  platform: NodeJS.Platform,
  files: string[],
  env: Record<string, string> = {},
  ldCache: string | null = null,
): LibraryProbe & { looked: string[] } {
  const looked: string[] = [];
  const set = new Set(files);
  return {
    platform,
    env,
    looked,
    exists: (file) => {
      looked.push(file);
      return set.has(file);
    },
    ldCache: () => ldCache,
  };
}

/** Bytes as `/etc/ld.so.cache` holds them: NUL-terminated sonames and paths. */
const cacheOf = (...entries: [soname: string, file: string][]) =>
  `glibc-ld.so.cache1.1\0${entries.map(([so, file]) => `${so}\0${file}\0`).join('')}`;

const LINUX_CUDA = ['libcuda.so.1', 'libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'];

describe('deviceDescription', () => {
  it('says GPU only when tfjs-node says its backend is on a GPU device', () => {
    expect(
      deviceDescription({
        backend: 'tensorflow-gpu',
        cores: 8,
        native: { gpuPackage: true, usingGpu: true },
        gpuName: 'NVIDIA RTX A4000',
      }),
    ).toEqual({ kind: 'gpu', detail: 'GPU in use: NVIDIA RTX A4000' });
    expect(
      deviceDescription({ backend: 'tensorflow-gpu', cores: 8, native: { gpuPackage: true, usingGpu: true } }),
    ).toEqual({ kind: 'gpu', detail: 'GPU in use (CUDA)' });
  });

  it('names the missing CUDA libraries when the GPU build runs on the CPU', () => {
    expect(
      deviceDescription({
        backend: 'tensorflow-gpu',
        cores: 8,
        native: { gpuPackage: true, usingGpu: false },
        missingCuda: ['libcudart.so.11.0', 'libcudnn.so.8'],
      }),
    ).toEqual({ kind: 'cpu', detail: 'CPU (8 cores; CUDA libraries not found: libcudart.so.11.0, libcudnn.so.8)' });
    const allFound = deviceDescription({
      backend: 'tensorflow-gpu',
      cores: 4,
      native: { gpuPackage: true, usingGpu: false },
      missingCuda: [],
    });
    expect(allFound.kind).toBe('cpu');
    expect(allFound.detail).toMatch(/^CPU \(4 cores; CUDA libraries found, but TensorFlow found no usable GPU/);
    expect(
      deviceDescription({ backend: 'tensorflow-gpu', cores: 2, cudaPlatform: false, missingCuda: [] }).detail,
    ).toBe('CPU (2 cores; no CUDA on this platform)');
  });

  it('describes the CPU backends by how they use the cores', () => {
    expect(
      deviceDescription({ backend: 'tensorflow', cores: 12, native: { gpuPackage: false, usingGpu: false } }),
    ).toEqual({ kind: 'cpu', detail: 'CPU (12 cores)' });
    expect(deviceDescription({ backend: 'tensorflow', cores: 1 }).detail).toBe('CPU (1 core)');
    expect(deviceDescription({ backend: 'wasm', cores: 12 })).toEqual({
      kind: 'cpu',
      detail: 'CPU (WASM, one thread per worker)',
    });
    expect(deviceDescription({ backend: 'cpu', cores: 12 }).kind).toBe('cpu');
    expect(deviceDescription({ backend: 'cpu', cores: 12 }).detail).toMatch(/^CPU \(/);
  });
});

describe('finding the CUDA libraries', () => {
  it('looks where the Linux loader looks: LD_LIBRARY_PATH, the ld.so cache, the default folders', () => {
    expect(cudaLibraries('linux')).toEqual(LINUX_CUDA);
    const env = { LD_LIBRARY_PATH: '/opt/cuda-11.2/lib64::/opt/cudnn/lib' };
    expect(librarySearchDirs('linux', env).slice(0, 2)).toEqual(['/opt/cuda-11.2/lib64', '/opt/cudnn/lib']);
    const m = machine(
      'linux',
      ['/opt/cuda-11.2/lib64/libcudart.so.11.0', '/usr/lib/x86_64-linux-gnu/libcuda.so.1'],
      env,
      cacheOf(['libcublas.so.11', '/usr/local/cuda-11.2/lib64/libcublas.so.11'], ['libc.so.6', '/lib/libc.so.6']),
    );
    expect(missingLibraries(LINUX_CUDA, m)).toEqual(['libcudnn.so.8']);
  });

  it('reports every library missing on a machine without CUDA, and a cache without them', () => {
    const bare = machine('linux', ['/usr/lib/libc.so.6'], {}, cacheOf(['libc.so.6', '/usr/lib/libc.so.6']));
    expect(missingLibraries(LINUX_CUDA, bare)).toEqual(LINUX_CUDA);
    // Not the loader's search path: /usr/local/cuda is found only through LD_LIBRARY_PATH or the cache.
    const notOnPath = machine('linux', ['/usr/local/cuda/lib64/libcudart.so.11.0']);
    expect(missingLibraries(['libcudart.so.11.0'], notOnPath)).toEqual(['libcudart.so.11.0']);
    // A longer name containing the wanted one is not it.
    const similar = machine('linux', [], {}, cacheOf(['libcudnn.so.8.1', '/usr/lib/libcudnn.so.8.1']));
    expect(missingLibraries(['libcudnn.so.8'], similar)).toEqual(['libcudnn.so.8']);
  });

  it('looks in the system folder and PATH on Windows', () => {
    expect(cudaLibraries('win32')).toEqual(['nvcuda.dll', 'cudart64_110.dll', 'cublas64_11.dll', 'cudnn64_8.dll']);
    const cudaBin = 'C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v11.2\\bin';
    const m = machine(
      'win32',
      ['C:\\Windows\\System32\\nvcuda.dll', `${cudaBin}\\cudart64_110.dll`, `${cudaBin}\\cublas64_11.dll`],
      { SystemRoot: 'C:\\Windows', Path: `C:\\Windows;${cudaBin};` },
    );
    expect(missingLibraries(cudaLibraries('win32'), m)).toEqual(['cudnn64_8.dll']);
    expect(m.looked).toContain(`${cudaBin}\\cudnn64_8.dll`);
  });

  it('has nothing to look for on macOS', () => {
    expect(cudaLibraries('darwin')).toEqual([]);
  });
});

describe('probeDevice', () => {
  // tfjs-node 4.x's NodeJSKernelBackend sets these two fields in its constructor.
  const gpuBackendOnCpu = { isGPUPackage: true, isUsingGpuDevice: false };

  it('reads tfjs-node backend objects, including older ones with a method', () => {
    expect(nativeGpuState({ isGPUPackage: true, isUsingGpuDevice: true })).toEqual({
      gpuPackage: true,
      usingGpu: true,
    });
    expect(nativeGpuState({ isGPUPackage: false, isUsingGpuDevice: () => false })).toEqual({
      gpuPackage: false,
      usingGpu: false,
    });
    expect(nativeGpuState({})).toBeUndefined();
    expect(nativeGpuState(null)).toBeUndefined();
  });

  it('names the GPU in use', async () => {
    const device = await probeDevice('tensorflow-gpu', {
      cores: 16,
      nativeBackend: { isGPUPackage: true, isUsingGpuDevice: true },
      gpuName: async () => 'NVIDIA GeForce RTX 3090',
      libraries: machine('linux', []),
    });
    expect(device).toEqual({ kind: 'gpu', detail: 'GPU in use: NVIDIA GeForce RTX 3090' });
    const unnamed = await probeDevice('tensorflow-gpu', {
      cores: 16,
      nativeBackend: { isGPUPackage: true, isUsingGpuDevice: true },
      gpuName: () => Promise.reject(new Error('nvidia-smi: not found')),
    });
    expect(unnamed).toEqual({ kind: 'gpu', detail: 'GPU in use (CUDA)' });
  });

  it('on the CPU, says which CUDA libraries this machine lacks', async () => {
    const device = await probeDevice('tensorflow-gpu', {
      cores: 6,
      nativeBackend: gpuBackendOnCpu,
      gpuName: () => Promise.reject(new Error('must not be asked')),
      libraries: machine('linux', ['/usr/lib/x86_64-linux-gnu/libcuda.so.1', '/usr/lib64/libcublas.so.11']),
    });
    expect(device).toEqual({
      kind: 'cpu',
      detail: 'CPU (6 cores; CUDA libraries not found: libcudart.so.11.0, libcudnn.so.8)',
    });
  });

  it('does not look for CUDA behind the CPU build of tfjs-node, nor behind wasm', async () => {
    const libraries = machine('linux', []);
    const device = await probeDevice('tensorflow', {
      cores: 6,
      nativeBackend: { isGPUPackage: false, isUsingGpuDevice: false },
      libraries,
    });
    expect(device).toEqual({ kind: 'cpu', detail: 'CPU (6 cores)' });
    expect(await probeDevice('wasm', { libraries })).toEqual({
      kind: 'cpu',
      detail: 'CPU (WASM, one thread per worker)',
    });
    expect(libraries.looked).toEqual([]);
  });

  it('counts this machine’s cores by default', async () => {
    const device = await probeDevice('tensorflow', { nativeBackend: { isGPUPackage: false, isUsingGpuDevice: false } });
    expect(device.detail).toBe(
      `CPU (${os.availableParallelism()} ${os.availableParallelism() === 1 ? 'core' : 'cores'})`,
    );
  });
});

describe('the device, as reported', () => {
  it('initBackend reports it, and describeDevice gives it for a run record', async () => {
    const report = await initBackend();
    // The same probe, reading the same tfjs backend object (only tfjs-node registers 'tensorflow').
    expect(report.device).toEqual(await probeDevice(report.name, { nativeBackend: tf.findBackend('tensorflow') }));
    expect(describeDevice(report)).toEqual(report.device);
    expect(['gpu', 'cpu']).toContain(report.device.kind);
    if (report.name === 'wasm') expect(report.device.detail).toBe('CPU (WASM, one thread per worker)');
  });

  it('freezelab info prints it, and --json carries it', async () => {
    const db = path.join(os.tmpdir(), `freezelab-device-${process.pid}.db`);
    const report = await initBackend();
    let out = '';
    const io: CliIO = { out: (t) => void (out += t), err: () => undefined, env: {} };
    expect(await runCli(['info', '--db', db], cliCommands, io)).toBe(0);
    expect(out).toContain(`\nDevice:   ${report.device.detail}\n`);
    out = '';
    expect(await runCli(['info', '--json', '--db', db], cliCommands, io)).toBe(0);
    const info = JSON.parse(out) as { backend: { name: string; device: unknown } };
    expect(info.backend.device).toEqual(report.device);
  });
});
