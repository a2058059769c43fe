/**
 * What the running TensorFlow.js backend computes on: a GPU, or the CPU (and how).
 *
 * The question matters for `tensorflow-gpu`: libtensorflow's GPU build starts without CUDA and then
 * runs every op on the CPU, so "tfjs-node-gpu loaded" does not mean "the GPU is in use". tfjs-node
 * 4.x says which on its backend (`NodeJSKernelBackend.isUsingGpuDevice`, `isGPUPackage`); when the
 * GPU build is not on the GPU, the CUDA libraries libtensorflow 2.9 loads are looked for where the
 * system's loader looks, to name the missing ones.
 *
 * The decisions are pure functions ({@link deviceDescription}, {@link missingLibraries}); the
 * machine is read through {@link LibraryProbe} and {@link DeviceDeps}, which tests replace.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendName } from '../../../shared/backend.js';

/** What the backend computes on, for people: `detail` is one line. */
export interface BackendDevice {
  readonly kind: 'gpu' | 'cpu';
  /** e.g. "GPU in use: NVIDIA RTX A4000", "CPU (8 cores; CUDA libraries not found: libcudnn.so.8)". */
  readonly detail: string;
}

/** The facts {@link deviceDescription} decides from. */
export interface DeviceFacts {
  /** The backend running. */
  readonly backend: BackendName;
  /** Logical cores of this machine. */
  readonly cores: number;
  /** For the `tensorflow*` backends: what tfjs-node's backend object says; undefined when unknown. */
  readonly native?: { readonly gpuPackage: boolean; readonly usingGpu: boolean };
  /** Name of the GPU in use (nvidia-smi), when known. */
  readonly gpuName?: string | null;
  /** CUDA libraries the GPU build needs that the loader cannot find here. */
  readonly missingCuda?: readonly string[];
  /** Whether CUDA exists for this platform at all (not on macOS). */
  readonly cudaPlatform?: boolean;
}

/** The one-line device description of a backend, from facts. Pure. */
export function deviceDescription(facts: DeviceFacts): BackendDevice {
  const cores = `${facts.cores} ${facts.cores === 1 ? 'core' : 'cores'}`;
  switch (facts.backend) {
    case 'wasm':
      return { kind: 'cpu', detail: 'CPU (WASM, one thread per worker)' };
    case 'cpu':
      return { kind: 'cpu', detail: 'CPU (pure JavaScript, one thread)' };
    case 'tensorflow':
    case 'tensorflow-gpu': {
      if (facts.native?.usingGpu) {
        return { kind: 'gpu', detail: facts.gpuName ? `GPU in use: ${facts.gpuName}` : 'GPU in use (CUDA)' };
      }
      const gpuBuild = facts.native ? facts.native.gpuPackage : facts.backend === 'tensorflow-gpu';
      if (!gpuBuild) return { kind: 'cpu', detail: `CPU (${cores})` };
      let why: string;
      if (facts.cudaPlatform === false) why = 'no CUDA on this platform';
      else if (facts.missingCuda && facts.missingCuda.length > 0) {
        why = `CUDA libraries not found: ${facts.missingCuda.join(', ')}`;
      } else if (facts.missingCuda) {
        why = 'CUDA libraries found, but TensorFlow found no usable GPU: check the NVIDIA driver with nvidia-smi';
      } else why = 'TensorFlow found no usable GPU';
      return { kind: 'cpu', detail: `CPU (${cores}; ${why})` };
    }
  }
}

// ---- Finding shared libraries -----------------------------------------------------------------

/**
 * The CUDA libraries libtensorflow 2.9.1's GPU build (tfjs-node-gpu 4.x: CUDA 11.2, cuDNN 8.1)
 * loads, driver first. Empty where there is no GPU build (macOS and others).
 */
export function cudaLibraries(platform: NodeJS.Platform): readonly string[] {
  if (platform === 'linux') return ['libcuda.so.1', 'libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'];
  if (platform === 'win32') return ['nvcuda.dll', 'cudart64_110.dll', 'cublas64_11.dll', 'cudnn64_8.dll'];
  return [];
}

/** The machine as the library search sees it. */
export interface LibraryProbe {
  readonly platform: NodeJS.Platform;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether a file exists at this path. */
  exists(file: string): boolean;
  /** Linux: the dynamic linker's cache (`/etc/ld.so.cache`) as text, or null when unreadable. */
  ldCache(): string | null;
}

/** Linux directories the dynamic linker searches without configuration (plus the multiarch ones). */
const LINUX_DEFAULT_DIRS = [
  '/lib',
  '/usr/lib',
  '/lib64',
  '/usr/lib64',
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
];

/**
 * Directories searched for a library by name, in order: Linux `LD_LIBRARY_PATH` then the default
 * directories (the ld.so cache is checked separately); Windows the system folder then `PATH`.
 */
export function librarySearchDirs(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  if (platform === 'win32') {
    const root = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows';
    const pathVar = env.PATH ?? env.Path ?? '';
    return [path.win32.join(root, 'System32'), ...pathVar.split(';')].filter((d) => d.trim() !== '');
  }
  const ld = (env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '');
  if (platform === 'darwin') return [...ld, ...(env.DYLD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '')];
  return [...ld, ...LINUX_DEFAULT_DIRS];
}

/** Whether the ld.so cache text lists a library of that exact file name. */
function inLdCache(cache: string, name: string): boolean {
  // Entries are NUL-terminated sonames and full paths; `ldconfig -p` prints the same table.
  return cache.includes(`\0${name}\0`) || cache.includes(`/${name}\0`);
}

/** The names among `names` that the system loader cannot find (see {@link librarySearchDirs}). */
export function missingLibraries(names: readonly string[], probe: LibraryProbe): string[] {
  const join = probe.platform === 'win32' ? path.win32.join : path.posix.join;
  const dirs = librarySearchDirs(probe.platform, probe.env);
  const cache = probe.platform === 'linux' ? probe.ldCache() : null;
  return names.filter((name) => {
    if (cache !== null && inLdCache(cache, name)) return false;
    return !dirs.some((dir) => probe.exists(join(dir, name)));
  });
}

// ---- Reading this machine ---------------------------------------------------------------------

/** The real machine: environment, file system, ld.so cache. */
export function systemLibraryProbe(): LibraryProbe {
  return {
    platform: process.platform,
    env: process.env,
    exists: (file) => existsSync(file),
    ldCache: () => {
      try {
        return readFileSync('/etc/ld.so.cache', 'latin1');
      } catch {
        return null;
      }
    },
  };
}

/** What {@link probeDevice} reads; each part replaceable in tests. */
export interface DeviceDeps {
  readonly cores: number;
  readonly libraries: LibraryProbe;
  /** The `tensorflow` backend object tfjs-node registered (for `isUsingGpuDevice`), if any. */
  readonly nativeBackend: unknown;
  /** Name of the GPU in use, or null when it cannot be told. */
  gpuName(): Promise<string | null>;
}

/** What tfjs-node's backend object says about the GPU; undefined for anything else. */
export function nativeGpuState(backend: unknown): { gpuPackage: boolean; usingGpu: boolean } | undefined {
  if (typeof backend !== 'object' || backend === null) return undefined;
  const b = backend as { isGPUPackage?: unknown; isUsingGpuDevice?: unknown };
  // 4.x: boolean fields set in the constructor; older versions had a method.
  const using =
    typeof b.isUsingGpuDevice === 'function' ? (b.isUsingGpuDevice as () => unknown).call(b) : b.isUsingGpuDevice;
  if (typeof using !== 'boolean') return undefined;
  return { gpuPackage: b.isGPUPackage === true, usingGpu: using };
}

/** First GPU (honouring CUDA_VISIBLE_DEVICES) as nvidia-smi names it, or null. */
export function nvidiaSmiGpuName(env: NodeJS.ProcessEnv = process.env, timeoutMs = 5000): Promise<string | null> {
  const visible = (env.CUDA_VISIBLE_DEVICES ?? '').split(',')[0]?.trim();
  const args = ['--query-gpu=name', '--format=csv,noheader', ...(visible ? ['-i', visible] : [])];
  return new Promise((resolve) => {
    execFile('nvidia-smi', args, { timeout: timeoutMs, windowsHide: true, encoding: 'utf8' }, (error, stdout) => {
      const name = error ? undefined : stdout.split('\n')[0]?.trim();
      resolve(name ? name : null);
    });
  });
}

/** Reads the machine and describes the device of `backend`. Never throws. */
export async function probeDevice(
  backend: DeviceFacts['backend'],
  deps: Partial<DeviceDeps> = {},
): Promise<BackendDevice> {
  const cores = deps.cores ?? os.availableParallelism();
  if (backend !== 'tensorflow' && backend !== 'tensorflow-gpu') return deviceDescription({ backend, cores });
  try {
    const native = nativeGpuState(deps.nativeBackend);
    if (native ? !native.gpuPackage && !native.usingGpu : backend === 'tensorflow') {
      return deviceDescription({ backend, cores, native }); // the CPU build: nothing to look for
    }
    if (native?.usingGpu) {
      const gpuName = await (deps.gpuName ?? (() => nvidiaSmiGpuName()))().catch(() => null);
      return deviceDescription({ backend, cores, native, gpuName });
    }
    const libraries = deps.libraries ?? systemLibraryProbe();
    const needed = cudaLibraries(libraries.platform);
    return deviceDescription({
      backend,
      cores,
      native,
      cudaPlatform: needed.length > 0,
      missingCuda: missingLibraries(needed, libraries),
    });
  } catch (err) {
    return { kind: 'cpu', detail: `CPU (${cores} cores; could not tell whether a GPU is in use: ${String(err)})` };
  }
}
