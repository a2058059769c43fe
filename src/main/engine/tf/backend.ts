/**
 * Picks and starts the TensorFlow.js backend the engine runs on.
 *
 * Order: `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA), `@tensorflow/tfjs-node`
 * (libtensorflow on CPU), WASM (`@tensorflow/tfjs-backend-wasm`, SIMD, one thread in Node), and
 * finally the pure-JS `cpu` backend. The native packages are optional: they are loaded with a
 * dynamic import inside try/catch so a machine without them (or without a loadable libtensorflow)
 * falls through with a one-line reason per attempt.
 *
 * The engine uses ONE tfjs instance, `@tensorflow/tfjs`; tfjs-node(-gpu) register their
 * `tensorflow` backend on it (they import the same `@tensorflow/tfjs-core`), which is checked.
 *
 * The report also says what the backend computes on ({@link BackendReport.device}): tfjs-node-gpu
 * runs on the CPU when CUDA is missing, which only its backend object tells (see device.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BACKENDS, type BackendName } from '../../../shared/backend.js';
import { probeDevice, type BackendDevice } from './device.js';
import { FreezeLabError } from '../../../shared/result.js';

export type { BackendDevice } from './device.js';

/** One backend tried by {@link initBackend}. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** One line a person can read, e.g. "@tensorflow/tfjs-node-gpu: not installed". */
  reason?: string;
}

/** Result of {@link initBackend}. */
export interface BackendReport {
  /** The backend actually running: one of {@link BackendName}. */
  name: BackendName;
  /** Every backend tried, in order, with why it failed. */
  attempts: BackendAttempt[];
  /**
   * What it computes on: `{ kind: 'gpu', detail: 'GPU in use: <name>' }`, or the CPU and why not
   * the GPU (e.g. "CPU (8 cores; CUDA libraries not found: libcudnn.so.8)").
   */
  device: BackendDevice;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * Force this backend: only it is tried, and failing to start it is a {@link BackendError}.
   * Without it the first backend that starts, in the order above, wins.
   */
  prefer?: BackendName;
  /**
   * Folder holding `tfjs-backend-wasm*.wasm` (with or without trailing slash). Defaults to the
   * package's `dist/` folder, redirected to `app.asar.unpacked` when running from an Electron
   * archive and the unpacked copy exists.
   */
  wasmPath?: string;
}

/** A backend that was asked for explicitly could not be started. */
export class BackendError extends FreezeLabError {
  constructor(
    message: string,
    readonly attempts: BackendAttempt[],
  ) {
    super('conflict', message);
    this.name = 'BackendError';
  }
}

/** tf.memory() numbers plus the backend they come from. */
export interface MemoryInfo {
  backend: string;
  /** Bytes held by live tensors (not the backend's reserved pool). */
  numBytes: number;
  numTensors: number;
  numDataBuffers: number;
  /** tfjs says the count may miss memory (e.g. strings, or native allocators). */
  unreliable: boolean;
  reasons: string[];
}

const NATIVE_PACKAGE = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

const require = createRequire(import.meta.url);
let done: BackendReport | undefined;
let pending: Promise<BackendReport> | undefined;
let wasmPathSet = false;

/**
 * Start a backend (see the module doc for the order) and return what runs and what was tried.
 * Idempotent: later calls return the first successful report. A later call forcing a different
 * backend than the one running is a {@link BackendError} (tfjs kernels, gradients and variables
 * belong to one backend for the life of the process).
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendReport> {
  if (done) {
    if (opts.prefer && opts.prefer !== done.name) {
      throw new BackendError(
        `TensorFlow.js backend is already '${done.name}'; cannot switch to '${opts.prefer}' in the same process`,
        done.attempts,
      );
    }
    return done;
  }
  pending ??= start(opts).finally(() => {
    pending = undefined;
  });
  const report = await pending;
  done = report;
  return report;
}

/**
 * The device a started backend computes on, for a run's record: `report.device`, i.e.
 * `{ kind: 'gpu' | 'cpu', detail }` with `detail` one line such as "GPU in use: NVIDIA RTX A4000"
 * or "CPU (8 cores; CUDA libraries not found: libcudart.so.11.0, libcudnn.so.8)".
 */
export function describeDevice(report: BackendReport): BackendDevice {
  return { kind: report.device.kind, detail: report.device.detail };
}

/** Live tensor memory as tfjs counts it (`tf.memory()`). */
export function memoryInfo(): MemoryInfo {
  const m = tf.memory() as tf.MemoryInfo & { unreliable?: boolean; reasons?: string[] };
  return {
    backend: tf.getBackend(),
    numBytes: m.numBytes,
    numTensors: m.numTensors,
    numDataBuffers: m.numDataBuffers,
    unreliable: m.unreliable ?? false,
    reasons: m.reasons ?? [],
  };
}

/** The wasm binaries folder used when no override is given (exported for diagnostics/tests). */
export function defaultWasmPath(): string {
  return asarUnpackedPath(
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'),
  );
}

/**
 * In a packaged Electron app, files under `app.asar/` that were unpacked (electron-builder
 * `asarUnpack`) live under `app.asar.unpacked/`: use that copy when it exists, so loaders that
 * bypass Electron's asar fs patch can read the .wasm files.
 */
export function asarUnpackedPath(p: string): string {
  const unpacked = p.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
  return unpacked !== p && existsSync(unpacked) ? unpacked : p;
}

async function start(opts: InitBackendOptions): Promise<BackendReport> {
  const attempts: BackendAttempt[] = [];
  const candidates = opts.prefer ? [opts.prefer] : BACKENDS;
  for (const name of candidates) {
    const reason = await tryStart(name, opts);
    attempts.push(reason === undefined ? { name, ok: true } : { name, ok: false, reason });
    if (reason === undefined) {
      const nativeBackend = name === 'tensorflow-gpu' || name === 'tensorflow' ? tf.findBackend('tensorflow') : null;
      return { name, attempts, device: await probeDevice(name, { nativeBackend }) };
    }
  }
  const why = attempts.map((a) => a.reason).join('; ');
  throw new BackendError(
    opts.prefer
      ? `TensorFlow.js backend '${opts.prefer}' could not be started: ${why}`
      : `No TensorFlow.js backend could be started: ${why}`,
    attempts,
  );
}

/** Returns undefined when the backend runs, else a one-line reason. */
async function tryStart(name: BackendName, opts: InitBackendOptions): Promise<string | undefined> {
  try {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') return await startNative(name);
    if (name === 'wasm') {
      if (!wasmPathSet) {
        const dir = opts.wasmPath ?? defaultWasmPath();
        try {
          setWasmPaths(dir.endsWith('/') || dir.endsWith('\\') ? dir : `${dir}${path.sep}`);
        } catch {
          // Already initialised by someone else (e.g. a test set it up): its path stands.
        }
        wasmPathSet = true;
      }
      return await activate('wasm', '@tensorflow/tfjs-backend-wasm');
    }
    return await activate('cpu', 'cpu backend');
  } catch (err) {
    return `${name}: ${firstLine(err)}`;
  }
}

async function startNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<string | undefined> {
  const pkg = NATIVE_PACKAGE[name];
  try {
    require.resolve(pkg);
  } catch {
    return `${pkg}: not installed`;
  }
  if (name === 'tensorflow-gpu') {
    // Without it TensorFlow reserves most GPU memory at start and every freeze depth looks alike.
    process.env.TF_FORCE_GPU_ALLOW_GROWTH = 'true';
  }
  if (tf.findBackend('tensorflow') === null) {
    try {
      // A variable specifier keeps TypeScript from requiring the optional package's types.
      const spec: string = pkg;
      await import(spec);
    } catch (err) {
      return `${pkg}: libtensorflow could not be loaded: ${firstLine(err)}`;
    }
    if (tf.findBackend('tensorflow') === null) {
      return `${pkg}: loaded but registered on another copy of @tensorflow/tfjs-core (version mismatch with @tensorflow/tfjs ${tf.version.tfjs})`;
    }
  }
  return activate('tensorflow', pkg);
}

/** tf.setBackend returns false and only logs the cause; catch that log to report it. */
async function activate(backend: string, label: string): Promise<string | undefined> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  };
  let ok: boolean;
  try {
    ok = await tf.setBackend(backend);
    if (ok) await tf.ready();
  } finally {
    console.warn = warn;
  }
  if (ok && tf.getBackend() === backend) return undefined;
  const cause = warnings.find((w) => !w.startsWith('Initialization of backend')) ?? 'initialisation failed';
  return `${label}: ${firstLine(cause)}`;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim();
}
