/** Shared helpers for store tests: temp folders and realistic run/epoch data. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EpochRecord, NewRun } from '../../../src/shared/runs.js';

/** A fresh temp folder; remove it with `fs.rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'freezelab-store-'));
}

export function newRun(over: Partial<NewRun> = {}): NewRun {
  return {
    name: 'coco128 yolov5n',
    config: { data: 'coco128.yaml', weights: 'yolov5n.pt', hyp: { lr0: 0.01 } },
    datasetPath: '/data/coco128.yaml',
    datasetFingerprint: 'abc123',
    weightsPath: '/w/yolov5n.pt',
    weightsSha256: 'f'.repeat(64),
    model: 'yolov5n',
    imgSize: 320,
    batch: 8,
    epochs: 3,
    freezeSpec: 'none',
    frozenModules: [],
    bnPolicy: 'update',
    hypName: 'hyp.scratch-low',
    backend: 'wasm',
    trainableParams: 1_872_157,
    totalParams: 1_872_157,
    seed: 0,
    ...over,
  };
}

export function epoch(n: number, over: Partial<EpochRecord> = {}): EpochRecord {
  const map50_95 = over.map50_95 ?? 0.2 + 0.01 * n;
  const map50 = over.map50 ?? map50_95 + 0.15;
  return {
    epoch: n,
    boxLoss: 0.05,
    objLoss: 0.03,
    clsLoss: 0.02,
    lr: [0.01, 0.01, 0.09],
    precision: 0.6,
    recall: 0.5,
    map50,
    map50_95,
    fitness: 0.1 * map50 + 0.9 * map50_95,
    seconds: 10 + n,
    imagesPerSecond: 12.8,
    peakTensorBytes: 100_000_000 + n,
    peakRssBytes: 900_000_000,
    peakGpuMemBytes: null,
    ...over,
  };
}
