/**
 * Kernel-by-kernel profile of one training step per freeze preset: yolov5n.pt on a coco128 batch
 * of 8 at img 320 (a batch of 16 split over 2 workers), wasm backend. The step is the trainer's
 * (`trainChunk` in src/main/engine/train/trainer.ts): the frozen prefix outside the gradient tape,
 * the rest inside tf.variableGrads, gradients accumulated into the optimizer.
 *
 * tf.profile records every kernel with its wall time (the wasm backend runs synchronously, so the
 * time is the kernel's own), plus records for custom-gradient ops that wrap the kernels they ran
 * (left out here). Each kernel is put in a phase: `frozen` (prefix, no tape), `fwd`
 * (forward and loss on the tape), `bwd` (the gradients), `opt` (accumulation). Backward Conv2D
 * calls are split by what they compute, read from the filter shape: dW convolutions use dy as the
 * filter (spatial size = the output map's), dx convolutions use the (sub-pixel) weights.
 * Figures are the mean of RUNS profiled steps after WARMUP unprofiled ones (the first step pays
 * for kernel set-up); "step ms" is the median wall time of unprofiled steps.
 * Run: `node --import tsx bench/profile.ts [none,backbone,all-but-detect]` (needs ../shared).
 * Each preset runs in its own process. Writes bench/results/profile.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.env.FREEZELAB_SHARED ?? path.resolve(root, '..', 'shared');
const PRESETS = ['none', 'backbone', 'all-but-detect'] as const;
type Preset = (typeof PRESETS)[number];
const BATCH = 8;
const IMG = 320;
const WARMUP = 2;
const RUNS = 3;
const TOP = 12;

type Phase = 'frozen' | 'fwd' | 'bwd' | 'opt';
interface Row {
  kernel: string;
  phase: Phase;
  calls: number;
  ms: number;
}
interface PresetProfile {
  preset: Preset;
  firstTrainable: number;
  /** Median wall ms of unprofiled steps. */
  stepMs: number;
  /** Mean wall ms of the profiled steps, and the kernels' share of it. */
  profiledStepMs: number;
  kernelMs: number;
  phaseMs: Record<Phase, number>;
  peakBytes: number;
  rows: Row[];
}

/** Number of kernels tf.profile has recorded so far (to mark phase boundaries). */
function recorded(): number {
  const state = tf.engine().state as unknown as { activeProfile: { kernels: unknown[] } };
  return state.activeProfile.kernels.length;
}

type KernelRecord = Awaited<ReturnType<typeof tf.profile>>['kernels'][number];

function backwardConvRole(k: KernelRecord): string {
  const filter = k.inputShapes[1];
  // dW convs take dy [Ho,Wo,N,Co] as the filter; dx convs a kernel of at most 6 taps a side.
  return filter && (filter[0] ?? 0) > 6 ? 'Conv2D dW' : 'Conv2D dx';
}

async function profilePreset(preset: Preset): Promise<PresetProfile> {
  const { initBackend } = await import('../src/main/engine/tf/backend.js');
  const { setupTraining } = await import('../src/main/engine/train/setup.js');
  const { computeLoss } = await import('../src/main/engine/train/loss.js');
  const { trainConfigSchema } = await import('../src/shared/train-config.js');
  await initBackend({ prefer: 'wasm' });
  const config = trainConfigSchema.parse({
    weights: path.join(sharedDir, 'weights', 'yolov5n.pt'),
    data: path.join(sharedDir, 'data', 'coco128', 'coco128.yaml'),
    imgSize: IMG,
    batch: BATCH,
    epochs: 1,
    freeze: preset,
  });
  const s = await setupTraining(config);
  const batch = await s.loader.batch(0, 0);
  const { model } = s;
  const opts = { training: true, bnEvalModules: s.bnEvalModules };
  const marks = { prefix: 0, forward: 0, backward: 0 };
  const mark = (k: keyof typeof marks, profiling: boolean) => {
    if (profiling) marks[k] = recorded();
  };

  // Same order of work as trainer.ts trainChunk.
  const step = (profiling: boolean): void => {
    const x = tf.tensor4d(batch.images, batch.shape as [number, number, number, number]);
    const prefix = s.firstTrainable > 0 ? model.runPrefix(x, s.firstTrainable, opts) : model.begin(x);
    mark('prefix', profiling);
    const { value, grads } = tf.variableGrads(() => {
      const state = model.runModules(prefix, s.firstTrainable, model.graph.modules.length, opts);
      if (!state.raws) throw new Error('the model graph has no Detect module');
      const loss = computeLoss(state.raws, batch.targets, s.lossContext);
      mark('forward', profiling);
      return loss.total;
    }, s.trainableVars);
    mark('backward', profiling);
    s.optimizer.accumulate(grads);
    value.dataSync();
    value.dispose();
    tf.dispose(grads);
    if (s.firstTrainable > 0) model.disposeState(prefix);
    x.dispose();
  };

  for (let i = 0; i < WARMUP; i++) step(false);
  const wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    step(false);
    wall.push(performance.now() - t0);
  }
  wall.sort((a, b) => a - b);

  const rows = new Map<string, Row>();
  const phaseMs: Record<Phase, number> = { frozen: 0, fwd: 0, bwd: 0, opt: 0 };
  let profiledMs = 0;
  let peakBytes = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const info = await tf.profile(() => {
      step(true);
      return [];
    });
    profiledMs += (performance.now() - t0) / RUNS;
    peakBytes = Math.max(peakBytes, info.peakBytes);
    info.kernels.forEach((k, i) => {
      // Custom-gradient ops and scopes are recorded too, around the kernels they ran: skip them.
      if (tf.getKernel(k.name, 'wasm') === undefined) return;
      const phase: Phase = i < marks.prefix ? 'frozen' : i < marks.forward ? 'fwd' : i < marks.backward ? 'bwd' : 'opt';
      const kernel = phase === 'bwd' && k.name === 'Conv2D' ? backwardConvRole(k) : k.name;
      const key = `${phase}:${kernel}`;
      const row = rows.get(key) ?? { kernel, phase, calls: 0, ms: 0 };
      row.calls += 1 / RUNS;
      row.ms += (k.kernelTimeMs as number) / RUNS;
      phaseMs[phase] += (k.kernelTimeMs as number) / RUNS;
      rows.set(key, row);
    });
  }
  const sorted = [...rows.values()].sort((a, b) => b.ms - a.ms);
  const firstTrainable = s.firstTrainable;
  s.dispose();
  return {
    preset,
    firstTrainable,
    stepMs: wall[Math.floor(wall.length / 2)] ?? NaN,
    profiledStepMs: profiledMs,
    kernelMs: sorted.reduce((a, r) => a + r.ms, 0),
    phaseMs,
    peakBytes,
    rows: sorted.map((r) => ({ ...r, calls: Math.round(r.calls) })),
  };
}

function print(p: PresetProfile): void {
  const pct = (ms: number) => ((ms / p.profiledStepMs) * 100).toFixed(1);
  console.log(
    `\n== ${p.preset} (modules 0-${p.firstTrainable - 1} outside the tape): step ${p.stepMs.toFixed(0)} ms ` +
      `(profiled ${p.profiledStepMs.toFixed(0)} ms, kernels ${p.kernelMs.toFixed(0)} ms = ${pct(p.kernelMs)}%; ` +
      `frozen ${p.phaseMs.frozen.toFixed(0)}, fwd ${p.phaseMs.fwd.toFixed(0)}, bwd ${p.phaseMs.bwd.toFixed(0)}, opt ${p.phaseMs.opt.toFixed(0)} ms)`,
  );
  console.log(`${'phase'.padEnd(7)}${'kernel'.padEnd(24)}${'calls'.padStart(6)}${'ms'.padStart(9)}${'%'.padStart(7)}`);
  for (const r of p.rows.slice(0, TOP)) {
    console.log(
      `${r.phase.padEnd(7)}${r.kernel.padEnd(24)}${String(r.calls).padStart(6)}${r.ms.toFixed(1).padStart(9)}${pct(r.ms).padStart(7)}`,
    );
  }
}

if (process.env.FREEZELAB_BENCH_CHILD) {
  const result = await profilePreset(process.env.FREEZELAB_BENCH_CHILD as Preset);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} else {
  const presets = (process.argv[2] ?? PRESETS.join(',')).split(',') as Preset[];
  const results: PresetProfile[] = [];
  const load = [os.loadavg()[0] ?? NaN];
  for (const preset of presets) {
    if (!PRESETS.includes(preset)) throw new Error(`unknown preset '${preset}'; choose from ${PRESETS.join(', ')}`);
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, FREEZELAB_BENCH_CHILD: preset },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`no result from the ${preset} run:\n${out}`);
    const p = JSON.parse(line.slice(7)) as PresetProfile;
    results.push(p);
    load.push(os.loadavg()[0] ?? NaN);
    print(p);
  }
  console.log(`\n1-minute load average: ${load.map((l) => l.toFixed(2)).join(' -> ')}`);
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    path.join(root, 'bench', 'results', 'profile.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadavg1: load },
        settings: { batch: BATCH, imgSize: IMG, warmup: WARMUP, runs: RUNS },
        results,
      },
      null,
      2,
    )}\n`,
  );
}
