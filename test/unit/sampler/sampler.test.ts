import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NvidiaSmi,
  ResourceSampler,
  findOnPath,
  parseComputeApps,
  parseGpuQuery,
  parseVmRss,
  rssOf,
  summarizeGpu,
  type GpuProbe,
  type GpuReading,
  type RunProgram,
} from '../../../src/main/jobs/sampler.js';

const MIB = 1024 * 1024;

describe('nvidia-smi output parsing', () => {
  it('reads one line per GPU, with [N/A] and [Not Supported] as null', () => {
    // Shapes as printed by driver 535 on a 4-GPU box, a laptop dGPU, and a WDDM Windows card (CRLF).
    const text = '24215, 97\n3, 0\n[N/A], [N/A]\n 1024 ,  [Not Supported]\r\n\n';
    expect(parseGpuQuery(text)).toEqual([
      { memUsedMiB: 24215, utilPercent: 97 },
      { memUsedMiB: 3, utilPercent: 0 },
      { memUsedMiB: null, utilPercent: null },
      { memUsedMiB: 1024, utilPercent: null },
    ]);
    expect(parseGpuQuery('No devices were found\n')).toEqual([]);
    expect(parseGpuQuery('')).toEqual([]);
  });

  it('reads compute apps, skipping lines without a pid', () => {
    const text = '4242, 3814\n4242, 1200\n977, 512\n1313, [N/A]\nNo running processes found\n';
    expect(parseComputeApps(text)).toEqual([
      { pid: 4242, usedMiB: 3814 },
      { pid: 4242, usedMiB: 1200 },
      { pid: 977, usedMiB: 512 },
      { pid: 1313, usedMiB: null },
    ]);
  });

  it('sums memory over GPUs, takes the busiest GPU, and the process figure over its GPUs', () => {
    const gpus = parseGpuQuery('24215, 97\n3, 0\n[N/A], [N/A]\n');
    const apps = parseComputeApps('4242, 3814\n4242, 1200\n977, 512\n1313, [N/A]\n');
    expect(summarizeGpu(gpus, apps, 4242)).toEqual({
      memUsedBytes: (24215 + 3) * MIB,
      utilPercent: 97,
      processMemBytes: (3814 + 1200) * MIB,
    });
    // Not listed (e.g. another pid namespace) or [N/A] -> null, never 0.
    expect(summarizeGpu(gpus, apps, 5).processMemBytes).toBeNull();
    expect(summarizeGpu(gpus, apps, 1313).processMemBytes).toBeNull();
    expect(summarizeGpu(parseGpuQuery('[N/A], [N/A]'), [], 1)).toEqual({
      memUsedBytes: null,
      utilPercent: null,
      processMemBytes: null,
    });
  });
});

describe('NvidiaSmi', () => {
  function fakeRun(outputs: Record<string, string | Error>): RunProgram & { calls: string[] } {
    const calls: string[] = [];
    const run: RunProgram = async (_file, args) => {
      const key = args[0]!.split('=')[0]!;
      calls.push(key);
      const out = outputs[key];
      if (out instanceof Error) throw out;
      return out ?? '';
    };
    return Object.assign(run, { calls });
  }

  it('reads both queries for a pid', async () => {
    const run = fakeRun({ '--query-gpu': '2048, 50\n', '--query-compute-apps': `${process.pid}, 1000\n` });
    const smi = new NvidiaSmi('/usr/bin/nvidia-smi', run);
    expect(await smi.read(process.pid)).toEqual({
      memUsedBytes: 2048 * MIB,
      utilPercent: 50,
      processMemBytes: 1000 * MIB,
    });
  });

  it('after a failure of the GPU query it never spawns again and reads null', async () => {
    const run = fakeRun({
      '--query-gpu': new Error('NVIDIA-SMI has failed because it could not communicate with the driver'),
    });
    const smi = new NvidiaSmi('/usr/bin/nvidia-smi', run);
    expect(await smi.read(1)).toBeNull();
    expect(await smi.read(1)).toBeNull();
    expect(run.calls).toEqual(['--query-gpu']);
    expect(smi.disabled).toBe(true);
    expect(smi.lastError).toMatch(/could not communicate/);
    // "No devices were found" exits non-zero on real drivers; an empty listing counts as failure too.
    const empty = fakeRun({ '--query-gpu': 'No devices were found\n' });
    const smi2 = new NvidiaSmi('x', empty);
    expect(await smi2.read(1)).toBeNull();
    expect(await smi2.read(1)).toBeNull();
    expect(empty.calls).toEqual(['--query-gpu']);
  });

  it('a failing compute-apps query is dropped on its own; GPU figures continue', async () => {
    const run = fakeRun({ '--query-gpu': '100, 5\n', '--query-compute-apps': new Error('exit 6') });
    const smi = new NvidiaSmi('x', run);
    expect(await smi.read(1)).toEqual({ memUsedBytes: 100 * MIB, utilPercent: 5, processMemBytes: null });
    expect(await smi.read(1)).toEqual({ memUsedBytes: 100 * MIB, utilPercent: 5, processMemBytes: null });
    expect(run.calls).toEqual(['--query-gpu', '--query-compute-apps', '--query-gpu']);
  });

  describe('with a real program on PATH', () => {
    let dir: string;
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it.skipIf(process.platform === 'win32')('finds it, runs it, and stops spawning it after it fails', async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freezelab-smi-'));
      const log = path.join(dir, 'calls.log');
      const script = path.join(dir, 'nvidia-smi');
      fs.writeFileSync(
        script,
        `#!/bin/sh\necho "$1" >> "${log}"\n` +
          `if [ -f "${dir}/broken" ]; then echo "Failed to initialize NVML" >&2; exit 9; fi\n` +
          `case "$1" in --query-gpu*) printf '3000, 40\\n500, 0\\n';; *) printf '${process.pid}, 2900\\n';; esac\n`,
      );
      fs.chmodSync(script, 0o755);
      const env = { PATH: `/nonexistent${path.delimiter}${dir}` };
      expect(findOnPath('nvidia-smi', env)).toBe(script);
      const smi = NvidiaSmi.detect(env)!;
      expect(await smi.read(process.pid)).toEqual({
        memUsedBytes: 3500 * MIB,
        utilPercent: 40,
        processMemBytes: 2900 * MIB,
      });
      fs.writeFileSync(path.join(dir, 'broken'), '');
      expect(await smi.read(process.pid)).toBeNull();
      expect(await smi.read(process.pid)).toBeNull();
      const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
      expect(calls).toEqual([
        '--query-gpu=memory.used,utilization.gpu',
        '--query-compute-apps=pid,used_memory',
        '--query-gpu=memory.used,utilization.gpu',
      ]);
    });
  });

  it('absent from PATH -> no probe', () => {
    expect(findOnPath('nvidia-smi', { PATH: '/nonexistent' })).toBeNull();
    expect(NvidiaSmi.detect({ PATH: '' })).toBeNull();
  });
});

describe('RSS', () => {
  it('parses VmRSS from /proc status text', () => {
    expect(parseVmRss('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n')).toBe(123456 * 1024);
    expect(parseVmRss('Name:\tkthreadd\n')).toBeNull();
  });

  it.skipIf(process.platform !== 'linux')('reads this process and a child through /proc; a gone pid is null', () => {
    expect(rssOf(process.pid)).toBeGreaterThan(10 * MIB);
    const viaProc = parseVmRss(fs.readFileSync(`/proc/${process.pid}/status`, 'utf8'));
    expect(viaProc).toBeGreaterThan(10 * MIB);
    expect(rssOf(process.ppid)).toBeGreaterThan(0);
    expect(rssOf(2 ** 30)).toBeNull();
  });
});

describe('ResourceSampler', () => {
  /** A collector driven by the test: values change between samples like a training loop's would. */
  function fixture(gpu: GpuProbe | null) {
    let t = 1_000;
    const tensor = [100, 400, 250, null, 300];
    const rss = [10, 20, 15, 30, 5];
    let i = 0;
    const sampler = new ResourceSampler({
      pid: 77,
      now: () => t,
      tensorBytes: () => tensor[i] ?? null,
      rss: (pid) => (pid === 77 ? (rss[i] ?? null) : null),
      gpu,
      timers: { setInterval: () => 'handle', clearInterval: () => {} },
    });
    const step = async () => {
      await sampler.sampleOnce();
      i++;
      t += 500;
    };
    return { sampler, step };
  }

  it('tracks peaks over the run and per window, and hands samples over once', async () => {
    const { sampler, step } = fixture(null);
    await step();
    await step();
    expect(sampler.takeWindowPeaks()).toEqual({
      tensorBytes: 400,
      rssBytes: 20,
      gpuMemUsedBytes: null,
      processGpuMemBytes: null,
      gpuUtil: null,
      samples: 2,
    });
    await step();
    await step(); // tensor bytes unknown in this sample: the peak keeps the known values
    await step();
    expect(sampler.takeWindowPeaks()).toMatchObject({ tensorBytes: 300, rssBytes: 30, samples: 3 });
    expect(sampler.peaks()).toMatchObject({ tensorBytes: 400, rssBytes: 30, samples: 5, gpuMemUsedBytes: null });
    const samples = sampler.takeSamples();
    expect(samples.map((s) => s.tMs)).toEqual([1000, 1500, 2000, 2500, 3000]);
    expect(samples.map((s) => s.tensorBytes)).toEqual([100, 400, 250, null, 300]);
    expect(sampler.takeSamples()).toEqual([]);
  });

  it('GPU readings go into samples and peaks; an absent GPU gives nulls', async () => {
    const readings: (GpuReading | null)[] = [
      { memUsedBytes: 5 * MIB, utilPercent: 10, processMemBytes: 3 * MIB },
      { memUsedBytes: 9 * MIB, utilPercent: 99, processMemBytes: 7 * MIB },
      { memUsedBytes: 6 * MIB, utilPercent: 50, processMemBytes: 4 * MIB },
    ];
    const pids: number[] = [];
    const probe: GpuProbe = {
      read: async (pid) => {
        pids.push(pid);
        return readings.shift() ?? null;
      },
    };
    const { sampler, step } = fixture(probe);
    for (let k = 0; k < 4; k++) await step();
    expect(pids).toEqual([77, 77, 77, 77]);
    expect(sampler.peaks()).toMatchObject({ gpuMemUsedBytes: 9 * MIB, processGpuMemBytes: 7 * MIB, gpuUtil: 99 });
    expect(sampler.takeSamples()[3]).toMatchObject({ gpuMemUsedBytes: null, processGpuMemBytes: null });

    const absent = new ResourceSampler({ gpu: NvidiaSmi.detect({ PATH: '/nonexistent' }), tensorBytes: () => 1 });
    const s = await absent.sampleOnce();
    expect(s).toMatchObject({ gpuMemUsedBytes: null, gpuUtil: null, processGpuMemBytes: null, tensorBytes: 1 });
    expect(s.rssBytes).toBeGreaterThan(0); // this process, through Node
  });

  it('runs on its interval, does not stack ticks while a probe is slow, and stop() returns the peaks', async () => {
    let tickFn: (() => void) | null = null;
    let cleared: unknown = null;
    let release: () => void = () => {};
    let reads = 0;
    const slowProbe: GpuProbe = {
      read: () => {
        reads++;
        return new Promise((resolve) => {
          release = () => resolve({ memUsedBytes: MIB, utilPercent: 1, processMemBytes: null });
        });
      },
    };
    let bytes = 10;
    const sampler = new ResourceSampler({
      intervalMs: 250,
      gpu: slowProbe,
      tensorBytes: () => (bytes += 10),
      rss: () => 1,
      timers: {
        setInterval: (fn, ms) => {
          expect(ms).toBe(250);
          tickFn = fn;
          return 'h';
        },
        clearInterval: (h) => (cleared = h),
      },
    });
    sampler.start(); // first sample starts immediately and waits on the probe
    tickFn!();
    tickFn!(); // skipped: the first is still in flight
    expect(reads).toBe(1);
    release();
    await new Promise((r) => setImmediate(r));
    tickFn!();
    expect(reads).toBe(2);
    release();
    await new Promise((r) => setImmediate(r));
    const stopping = sampler.stop(); // one final sample
    await new Promise((r) => setImmediate(r));
    release();
    const peaks = await stopping;
    expect(cleared).toBe('h');
    expect(peaks.samples).toBe(3);
    expect(peaks.tensorBytes).toBe(40);
    expect(peaks.gpuMemUsedBytes).toBe(MIB);
  });

  it('a throwing tensor counter reads as null instead of killing the sampler', async () => {
    const sampler = new ResourceSampler({
      gpu: null,
      tensorBytes: () => {
        throw new Error('engine disposed');
      },
    });
    expect((await sampler.sampleOnce()).tensorBytes).toBeNull();
  });
});
