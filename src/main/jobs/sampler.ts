/**
 * Resource sampler: at a fixed interval reads process memory (RSS), live tensor bytes (injected)
 * and, when `nvidia-smi` is on PATH, GPU memory and utilization; keeps the samples for the store
 * and tracks peaks. nvidia-smi is optional: absent or failing means null GPU fields, and a query
 * that failed once is never spawned again (a broken driver must not cost a process per second).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ResourceSample } from '../../shared/runs.js';

const MIB = 1024 * 1024;

// ---- nvidia-smi parsing -----------------------------------------------------------------------

/** A number from nvidia-smi `--format=csv,noheader,nounits`; '[N/A]', '[Not Supported]' etc. are null. */
function smiNumber(field: string | undefined): number | null {
  const text = (field ?? '').trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) return null;
  return Number(text);
}

/** One line per GPU of `--query-gpu=memory.used,utilization.gpu` (MiB, percent). */
export interface SmiGpuLine {
  readonly memUsedMiB: number | null;
  readonly utilPercent: number | null;
}

/** Parses `--query-gpu=memory.used,utilization.gpu --format=csv,noheader,nounits`; skips unreadable lines. */
export function parseGpuQuery(text: string): SmiGpuLine[] {
  const out: SmiGpuLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split(',');
    if (fields.length !== 2) continue; // blank lines, "No devices were found", warnings
    out.push({ memUsedMiB: smiNumber(fields[0]), utilPercent: smiNumber(fields[1]) });
  }
  return out;
}

/** One line of `--query-compute-apps=pid,used_memory` (a process on one GPU). */
export interface SmiAppLine {
  readonly pid: number;
  readonly usedMiB: number | null;
}

/** Parses `--query-compute-apps=pid,used_memory --format=csv,noheader,nounits`. */
export function parseComputeApps(text: string): SmiAppLine[] {
  const out: SmiAppLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split(',');
    if (fields.length !== 2) continue;
    const pid = smiNumber(fields[0]);
    if (pid === null || !Number.isInteger(pid) || pid <= 0) continue;
    out.push({ pid, usedMiB: smiNumber(fields[1]) });
  }
  return out;
}

/** What one GPU reading contributes to a sample. */
export interface GpuReading {
  /** Device memory used by all processes, summed over GPUs. */
  readonly memUsedBytes: number | null;
  /** Utilization of the busiest GPU (the one training, on a machine with idle GPUs). */
  readonly utilPercent: number | null;
  /** Memory used by `pid` summed over the GPUs it appears on; null when not listed. */
  readonly processMemBytes: number | null;
}

const sumOrNull = (values: readonly (number | null)[]): number | null => {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, v) => a + v, 0);
};

/** Combines the two queries into one reading for `pid`. */
export function summarizeGpu(gpus: readonly SmiGpuLine[], apps: readonly SmiAppLine[], pid: number): GpuReading {
  const mem = sumOrNull(gpus.map((g) => g.memUsedMiB));
  const utils = gpus.map((g) => g.utilPercent).filter((u): u is number => u !== null);
  // Not listed -> null, not 0: in containers nvidia-smi often cannot see our pid namespace.
  const proc = sumOrNull(apps.filter((a) => a.pid === pid).map((a) => a.usedMiB));
  return {
    memUsedBytes: mem === null ? null : mem * MIB,
    utilPercent: utils.length === 0 ? null : Math.max(...utils),
    processMemBytes: proc === null ? null : proc * MIB,
  };
}

// ---- nvidia-smi process -----------------------------------------------------------------------

/** Finds an executable on PATH (with PATHEXT on Windows), or null. */
export function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | null {
  const exts = platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  const sep = platform === 'win32' ? ';' : ':';
  for (const dir of (env.PATH ?? env.Path ?? '').split(sep)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext.toLowerCase());
      try {
        if (fs.statSync(candidate).isFile()) {
          fs.accessSync(candidate, fs.constants.X_OK);
          return candidate;
        }
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** Runs a program and resolves with its stdout; rejects on spawn error, non-zero exit or timeout. */
export type RunProgram = (file: string, args: readonly string[], timeoutMs: number) => Promise<string>;

const runProgram: RunProgram = (file, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: timeoutMs, windowsHide: true, encoding: 'utf8' }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });

const GPU_ARGS = ['--query-gpu=memory.used,utilization.gpu', '--format=csv,noheader,nounits'];
const APPS_ARGS = ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'];

/** A GPU probe: resolves with a reading, or null when nothing can be measured. */
export interface GpuProbe {
  read(pid: number): Promise<GpuReading | null>;
}

/**
 * nvidia-smi as a {@link GpuProbe}. Each of the two queries is dropped for good after its first
 * failure (spawn error, non-zero exit, timeout, or for the GPU query an output with no GPU line).
 */
export class NvidiaSmi implements GpuProbe {
  private gpuFailed = false;
  private appsFailed = false;
  /** Why the last failure happened, for diagnostics. */
  lastError: string | null = null;

  constructor(
    readonly executable: string,
    private readonly run: RunProgram = runProgram,
    private readonly timeoutMs = 5000,
  ) {}

  /** nvidia-smi from PATH, or null when it is not installed. */
  static detect(env: NodeJS.ProcessEnv = process.env, run?: RunProgram): NvidiaSmi | null {
    const exe = findOnPath('nvidia-smi', env);
    return exe === null ? null : new NvidiaSmi(exe, run);
  }

  /** Whether both queries have failed, so `read` will always give null without spawning. */
  get disabled(): boolean {
    return this.gpuFailed && this.appsFailed;
  }

  async read(pid: number): Promise<GpuReading | null> {
    if (this.gpuFailed) return null; // the process figure alone is not worth a spawn per tick
    let gpus: SmiGpuLine[];
    try {
      gpus = parseGpuQuery(await this.run(this.executable, GPU_ARGS, this.timeoutMs));
      if (gpus.length === 0) throw new Error('nvidia-smi listed no GPU');
    } catch (error) {
      this.gpuFailed = this.appsFailed = true;
      this.lastError = (error as Error).message;
      return null;
    }
    let apps: SmiAppLine[] = [];
    if (!this.appsFailed) {
      try {
        apps = parseComputeApps(await this.run(this.executable, APPS_ARGS, this.timeoutMs));
      } catch (error) {
        this.appsFailed = true;
        this.lastError = (error as Error).message;
      }
    }
    return summarizeGpu(gpus, apps, pid);
  }
}

// ---- RSS ------------------------------------------------------------------------------------

/** VmRSS of a process from the text of `/proc/<pid>/status` (kB there), in bytes; null if absent. */
export function parseVmRss(statusText: string): number | null {
  const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : null;
}

/** Resident memory of `pid`: this process via Node, another one via /proc on Linux, else null. */
export function rssOf(pid: number, platform: NodeJS.Platform = process.platform): number | null {
  if (pid === process.pid) return process.memoryUsage.rss();
  if (platform !== 'linux') return null;
  try {
    return parseVmRss(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null; // the process ended
  }
}

// ---- Sampler --------------------------------------------------------------------------------

/** Highest value of each figure seen; null when never measured. */
export interface ResourcePeaks {
  readonly tensorBytes: number | null;
  readonly rssBytes: number | null;
  readonly gpuMemUsedBytes: number | null;
  readonly processGpuMemBytes: number | null;
  readonly gpuUtil: number | null;
  /** Samples these peaks are taken over. */
  readonly samples: number;
}

/** Timer functions, injectable so tests drive the sampler without real time. */
export interface SamplerTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface SamplerOptions {
  /** Time between samples (default 1000 ms). */
  readonly intervalMs?: number;
  /** Process to measure (default this one). */
  readonly pid?: number;
  /** Live tensor bytes, e.g. `() => tf.memory().numBytes`; null or absent = not measured. */
  readonly tensorBytes?: () => number | null;
  /** RSS reader (default {@link rssOf}). */
  readonly rss?: (pid: number) => number | null;
  /** GPU probe; default nvidia-smi from PATH when present; null = no GPU measurement. */
  readonly gpu?: GpuProbe | null;
  readonly now?: () => number;
  readonly timers?: SamplerTimers;
  /** Called with every sample as it is taken. */
  readonly onSample?: (sample: ResourceSample) => void;
}

const EMPTY: ResourcePeaks = {
  tensorBytes: null,
  rssBytes: null,
  gpuMemUsedBytes: null,
  processGpuMemBytes: null,
  gpuUtil: null,
  samples: 0,
};

const higher = (a: number | null, b: number | null): number | null => (b === null ? a : a === null || b > a ? b : a);

function addToPeaks(p: ResourcePeaks, s: ResourceSample): ResourcePeaks {
  return {
    tensorBytes: higher(p.tensorBytes, s.tensorBytes),
    rssBytes: higher(p.rssBytes, s.rssBytes),
    gpuMemUsedBytes: higher(p.gpuMemUsedBytes, s.gpuMemUsedBytes),
    processGpuMemBytes: higher(p.processGpuMemBytes, s.processGpuMemBytes),
    gpuUtil: higher(p.gpuUtil, s.gpuUtil),
    samples: p.samples + 1,
  };
}

/**
 * Samples resources every `intervalMs` between `start()` and `stop()`. Peaks are kept for the
 * whole run (`peaks()`) and per window (`takeWindowPeaks()`, e.g. one epoch); samples pile up until
 * `takeSamples()` hands them to the store in one batch.
 */
export class ResourceSampler {
  private readonly pid: number;
  private readonly gpu: GpuProbe | null;
  private readonly timers: SamplerTimers;
  private handle: unknown = null;
  private inflight: Promise<ResourceSample> | null = null;
  private lastGpu: GpuReading | null = null;
  private total: ResourcePeaks = EMPTY;
  private window: ResourcePeaks = EMPTY;
  private pending: ResourceSample[] = [];

  constructor(private readonly opts: SamplerOptions = {}) {
    this.pid = opts.pid ?? process.pid;
    this.gpu = opts.gpu === undefined ? NvidiaSmi.detect() : opts.gpu;
    this.timers = opts.timers ?? {
      setInterval: (fn, ms) => setInterval(fn, ms).unref(), // never keeps the process alive
      clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
    };
  }

  /** Starts periodic sampling (and takes a first sample now). */
  start(): void {
    if (this.handle !== null) return;
    this.handle = this.timers.setInterval(() => void this.tick(), this.opts.intervalMs ?? 1000);
    void this.tick();
  }

  /** A tick that finds the previous one still waiting on nvidia-smi is skipped, never stacked. */
  private tick(): Promise<ResourceSample | null> {
    if (this.inflight) return Promise.resolve(null);
    return this.sampleOnce().catch(() => null);
  }

  /** Takes one sample now (also what each tick does). */
  sampleOnce(): Promise<ResourceSample> {
    const run = async (): Promise<ResourceSample> => {
      const tMs = (this.opts.now ?? Date.now)();
      const tensorBytes = safe(() => this.opts.tensorBytes?.() ?? null);
      const rssBytes = safe(() => (this.opts.rss ?? rssOf)(this.pid));
      if (this.gpu !== null) this.lastGpu = await this.gpu.read(this.pid).catch(() => null);
      const sample: ResourceSample = {
        tMs,
        tensorBytes,
        rssBytes,
        gpuMemUsedBytes: this.lastGpu?.memUsedBytes ?? null,
        gpuUtil: this.lastGpu?.utilPercent ?? null,
        processGpuMemBytes: this.lastGpu?.processMemBytes ?? null,
      };
      this.total = addToPeaks(this.total, sample);
      this.window = addToPeaks(this.window, sample);
      this.pending.push(sample);
      this.opts.onSample?.(sample);
      return sample;
    };
    // Start at once when idle (the time stamp is the tick's); otherwise queue behind the running one.
    const p = this.inflight === null ? run() : this.inflight.then(run, run);
    this.inflight = p;
    void p
      .finally(() => {
        if (this.inflight === p) this.inflight = null;
      })
      .catch(() => {});
    return p;
  }

  /** Peaks over every sample so far. */
  peaks(): ResourcePeaks {
    return this.total;
  }

  /** Peaks since the previous call (or start), then starts a new window. */
  takeWindowPeaks(): ResourcePeaks {
    const w = this.window;
    this.window = EMPTY;
    return w;
  }

  /** Samples not yet taken, oldest first; the buffer is emptied. */
  takeSamples(): ResourceSample[] {
    const s = this.pending;
    this.pending = [];
    return s;
  }

  /** Stops sampling after one final sample, and returns the peaks of the whole run. */
  async stop(): Promise<ResourcePeaks> {
    if (this.handle !== null) {
      this.timers.clearInterval(this.handle);
      this.handle = null;
      await this.sampleOnce().catch(() => null);
    }
    return this.total;
  }
}

function safe(read: () => number | null): number | null {
  try {
    const v = read();
    return v === null || !Number.isFinite(v) ? null : v;
  } catch {
    return null; // e.g. the tensor engine was disposed between ticks
  }
}
