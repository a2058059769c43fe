/**
 * Eval-mode forward time of yolov5n.pt per image (forward + Detect decode + read-back, the work of
 * detect.py/val.py inference), median of N runs after warm-up, on each backend that loads: wasm
 * at 320 (batch 1 and 8) and 640 (batch 1); cpu at 320 batch 1 only (it is slow). Compared with
 * PyTorch 1.13 CPU on the same kind of machine (../shared/docs/TFJS-NOTES.md): 100 ms per 640
 * image, 22 ms per image at 320 batch 8.
 * Run: `npx tsx bench/forward.ts` (needs ../shared or FREEZELAB_SHARED). Each backend runs in a
 * child process of its own (tfjs holds one backend per process). Prints a table and writes
 * bench/results/forward.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { predict } from '../src/main/engine/infer/detect.js';
import { instantiateModel, resolveModelSource } from '../src/main/engine/model/source.js';
import { initBackend } from '../src/main/engine/tf/backend.js';
import type { BackendName } from '../src/shared/backend.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.env.FREEZELAB_SHARED ?? path.resolve(root, '..', 'shared');

interface Case {
  readonly imgSize: number;
  readonly batch: number;
  readonly warmup: number;
  readonly runs: number;
  /** PyTorch ms per image for the same work, when known. */
  readonly torchMs?: number;
}

interface Row extends Case {
  readonly backend: string;
  readonly msPerImage: number;
  readonly msPerBatchAll: number[];
  readonly ratioToTorch?: number;
}

const CASES: Record<string, Case[]> = {
  wasm: [
    { imgSize: 320, batch: 1, warmup: 2, runs: 9 },
    { imgSize: 320, batch: 8, warmup: 2, runs: 7, torchMs: 22 },
    { imgSize: 640, batch: 1, warmup: 2, runs: 7, torchMs: 100 },
  ],
  cpu: [{ imgSize: 320, batch: 1, warmup: 1, runs: 3 }],
};

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Runs the cases of one backend in this process; returns the rows. */
async function runBackend(name: BackendName): Promise<Row[]> {
  await initBackend({ prefer: name });
  const src = await resolveModelSource(path.join(sharedDir, 'weights', 'yolov5n.pt'));
  const { model } = instantiateModel(src);
  const rows: Row[] = [];
  for (const c of CASES[name] ?? []) {
    // A fixed, non-trivial input (the network's cost does not depend on the pixel values).
    const x = tf.tidy(() => tf.randomUniform([c.batch, c.imgSize, c.imgSize, 3], 0, 1, 'float32', 0) as tf.Tensor4D);
    const ms: number[] = [];
    for (let i = 0; i < c.warmup + c.runs; i++) {
      const t0 = performance.now();
      const y = predict(model, x);
      await y.data();
      y.dispose();
      if (i >= c.warmup) ms.push(performance.now() - t0);
    }
    x.dispose();
    const msPerImage = median(ms) / c.batch;
    rows.push({
      ...c,
      backend: name,
      msPerImage,
      msPerBatchAll: ms.map((v) => Math.round(v * 10) / 10),
      ...(c.torchMs ? { ratioToTorch: msPerImage / c.torchMs } : {}),
    });
  }
  model.dispose();
  return rows;
}

const child = process.argv.indexOf('--backend');
if (child >= 0) {
  const rows = await runBackend(process.argv[child + 1] as BackendName);
  process.stdout.write(`${JSON.stringify(rows)}\n`);
} else {
  const rows: Row[] = [];
  const failed: Record<string, string> = {};
  for (const backend of Object.keys(CASES)) {
    try {
      const out = execFileSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), '--backend', backend],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      rows.push(...(JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as Row[]));
    } catch (e) {
      failed[backend] = (e as Error).message.split('\n')[0] ?? 'failed';
    }
  }
  console.log('yolov5n.pt forward + decode, ms per image (median of N after warm-up)');
  console.log('backend  img  batch   N   ms/image   PyTorch   ratio');
  for (const r of rows) {
    console.log(
      `${r.backend.padEnd(7)} ${String(r.imgSize).padStart(4)} ${String(r.batch).padStart(6)} ${String(r.runs).padStart(3)} ` +
        `${r.msPerImage.toFixed(1).padStart(10)} ${(r.torchMs ? `${r.torchMs}` : '-').padStart(9)} ` +
        `${r.ratioToTorch ? `${r.ratioToTorch.toFixed(2)}x` : '-'}`.padStart(7),
    );
  }
  for (const [b, why] of Object.entries(failed)) console.log(`${b}: did not run (${why})`);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadavg1: os.loadavg()[0] },
    model: 'yolov5n.pt',
    what: 'predict(): eval forward + decode + read-back, ms per image; ratio = ms / PyTorch ms (TFJS-NOTES.md)',
    rows,
    failed,
  };
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(root, 'bench', 'results', 'forward.json'), `${JSON.stringify(result, null, 2)}\n`);
}
